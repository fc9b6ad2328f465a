import {
  BadRequestException,
  ConflictException,
  type HttpException,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import {
  AgentBusyError,
  AgentExistsError,
  AgentNotFoundError,
  CoordinatorError,
  IdempotencyConflictError,
  TaskFinishedError,
  TaskNotFoundError,
  SecretKeyMissingError,
  UnservedTasksError,
} from '@hive/coordinator';

/** The HTTP answer to what the coordinator refused, worded for API clients; undefined for any other error. */
export function httpErrorFor(error: unknown): HttpException | undefined {
  if (!(error instanceof CoordinatorError)) return undefined;
  if (error instanceof AgentBusyError) {
    return new ConflictException(`${error.message}; use ?force=true to requeue them`);
  }
  if (error instanceof AgentNotFoundError || error instanceof TaskNotFoundError) {
    return new NotFoundException(error.message);
  }
  if (error instanceof AgentExistsError || error instanceof TaskFinishedError) {
    return new ConflictException(error.message);
  }
  if (error instanceof UnservedTasksError || error instanceof SecretKeyMissingError) {
    return new BadRequestException(error.message);
  }
  if (error instanceof IdempotencyConflictError) return new UnprocessableEntityException(error.message);
  return undefined;
}
