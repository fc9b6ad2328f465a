import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { DatabaseStatus } from '@hive/database';
import { MetricsRegistry } from '../metrics-registry.js';

/** The pg pool's connections, read at scrape time; no series while the pool does not exist (before connect, after close). */
@Injectable()
export class PoolMetrics implements OnModuleInit {
  constructor(
    private readonly database: DatabaseStatus,
    private readonly registry: MetricsRegistry,
  ) {}

  onModuleInit(): void {
    const database = this.database;
    new Gauge({
      name: 'hive_db_pool_connections',
      help: 'PostgreSQL pool connections: total open, idle, and callers waiting for one (state = total|idle|waiting).',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        this.reset();
        const pool = database.pool();
        if (pool === undefined) return;
        this.set({ state: 'total' }, pool.total);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
    new Gauge({
      name: 'hive_db_pool_max',
      help: 'Most connections the PostgreSQL pool opens (DB_POOL_SIZE + DB_POOL_MAX_OVERFLOW).',
      registers: [this.registry],
      collect() {
        this.reset();
        const max = database.pool()?.max;
        if (max !== undefined) this.set(max);
      },
    });
  }
}
