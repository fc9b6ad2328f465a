import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricsRegistry } from '../metrics-registry.js';
import { pgPool } from '../pg-pool.js';

/** The pg pool's connections, read at scrape time; no series while the pool does not exist (before connect, after close). */
@Injectable()
export class PoolMetrics implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: MetricsRegistry,
  ) {}

  onModuleInit(): void {
    const dataSource = this.dataSource;
    new Gauge({
      name: 'hive_db_pool_connections',
      help: 'PostgreSQL pool connections: total open, idle, and callers waiting for one (state = total|idle|waiting).',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        this.reset();
        const pool = pgPool(dataSource);
        if (pool === undefined) return;
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
    new Gauge({
      name: 'hive_db_pool_max',
      help: 'Most connections the PostgreSQL pool opens (DB_POOL_SIZE + DB_POOL_MAX_OVERFLOW).',
      registers: [this.registry],
      collect() {
        this.reset();
        const max = pgPool(dataSource)?.options.max;
        if (max !== undefined) this.set(max);
      },
    });
  }
}
