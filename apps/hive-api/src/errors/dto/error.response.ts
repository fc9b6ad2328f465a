import { ApiProperty } from '@nestjs/swagger';
import type { ErrorBody } from '../all-exceptions.filter.js';

/** What every error answer looks like (AllExceptionsFilter), whatever the route and the status. */
export class ErrorResponse implements ErrorBody {
  @ApiProperty({ type: 'integer', description: 'The HTTP status, repeated', example: 400 })
  statusCode!: number;

  @ApiProperty({ description: "The status' name", example: 'Bad Request' })
  error!: string;

  @ApiProperty({
    description: 'What went wrong; validation failures list one message per bad field',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['priority must not be greater than 5'],
  })
  message!: string | string[];

  @ApiProperty({
    description: 'Also sent as the x-request-id header; quote it when reporting a problem',
    example: '3f6c1f9e-2b1d-4a8e-9d0c-5b7f1e2a4c6d',
  })
  request_id!: string;
}
