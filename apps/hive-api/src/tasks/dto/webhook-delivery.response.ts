import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { WEBHOOK_DELIVERY_STATUSES, type WebhookDeliveryState, type WebhookDeliveryStatus } from '@hive/database';

/** Where a task's webhook delivery stands. */
@ApiSchema({ name: 'WebhookDelivery' })
export class WebhookDeliveryResponse implements WebhookDeliveryState {
  @ApiProperty({
    enum: WEBHOOK_DELIVERY_STATUSES,
    enumName: 'WebhookDeliveryStatus',
    description:
      'pending: not delivered yet (retried until WEBHOOK_RETRY_HOURS after the task ended); failed: given up',
  })
  status!: WebhookDeliveryStatus;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Attempts so far', example: 1 })
  attempts!: number;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: "The receiver's HTTP status on the last attempt; null before any answer or when none came",
    example: 200,
  })
  last_status!: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed', example: null })
  last_error!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the next attempt is due' })
  next_attempt_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it was delivered or given up' })
  finished_at!: string | null;
}
