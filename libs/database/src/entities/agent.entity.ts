import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A registered LLM server. Its load (running tasks) is counted from `tasks`, never cached here. */
@Entity({ name: 'agents' })
export class AgentEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  endpoint!: string;

  @Column({ type: 'text' })
  model!: string;

  @Column({ type: 'text' })
  specialty!: string;

  @Column({ type: 'text', default: 'ollama' })
  kind!: string;

  @Column({ name: 'max_concurrent', type: 'integer', default: 2 })
  maxConcurrent!: number;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  /** Set after AGENT_MAX_FAILURES consecutive failures; cleared by the next successful probe. */
  @Column({ type: 'boolean', default: false })
  offline!: boolean;

  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutiveFailures!: number;

  @Column({ name: 'last_seen', type: 'timestamptz', nullable: true })
  lastSeen!: Date | null;

  /** When a replica last took this agent's probe (one replica probes each agent per interval). */
  @Column({ name: 'probed_at', type: 'timestamptz', nullable: true })
  probedAt!: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
