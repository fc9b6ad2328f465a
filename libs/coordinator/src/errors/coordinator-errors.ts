/**
 * What the coordinator refuses, as typed errors carrying the facts and a message that states them. The API picks the
 * status code and adds what only it knows, such as how to ask again (apps/hive-api/src/errors/domain-errors.ts).
 */
export abstract class CoordinatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class AgentNotFoundError extends CoordinatorError {
  constructor(readonly agentId: string) {
    super(`Agent ${agentId} is not registered`);
  }
}

export class AgentExistsError extends CoordinatorError {
  constructor(readonly agentId: string) {
    super(`Agent ${agentId} is already registered`);
  }
}

/** The agent runs tasks, and its removal was not forced. */
export class AgentBusyError extends CoordinatorError {
  constructor(
    readonly agentId: string,
    readonly runningTasks: number,
  ) {
    super(`Agent ${agentId} is running ${runningTasks} task(s)`);
  }
}

export class TaskNotFoundError extends CoordinatorError {
  constructor(readonly taskId: string) {
    super(`Task ${taskId} does not exist`);
  }
}

/** Only pending and running tasks can be cancelled. */
export class TaskFinishedError extends CoordinatorError {
  constructor(
    readonly taskId: string,
    readonly status: string,
  ) {
    super(`Task ${taskId} is already ${status} and cannot be cancelled`);
  }
}

/** What a task asks of an agent: a specialty, a model, or both ('' for none). */
export interface RouteAsked {
  type: string;
  model: string;
}

const describeRoute = ({ type, model }: RouteAsked): string =>
  model === '' ? `task type "${type}"` : type === '' ? `model "${model}"` : `model "${model}" for task type "${type}"`;

const listed = (names: readonly string[]): string => (names.length > 0 ? names.join(', ') : 'none');

/** No registered agent can run some of the submitted tasks: their specialty, their model, or the two together. */
export class UnservedTasksError extends CoordinatorError {
  constructor(
    readonly unserved: readonly RouteAsked[],
    readonly served: { specialties: readonly string[]; models: readonly string[] },
  ) {
    super(
      `No registered agent serves ${unserved.map(describeRoute).join(', ')}; ` +
        `served types: ${listed(served.specialties)}; served models: ${listed(served.models)}`,
    );
  }
}

/** An agent's API key was given, but there is no HIVE_SECRET_KEY to encrypt it with (production). */
export class SecretKeyMissingError extends CoordinatorError {
  constructor() {
    super('api_key cannot be stored: HIVE_SECRET_KEY is not set (it is required in production to store agent keys)');
  }
}

/** An Idempotency-Key already stands for another request (another body, or the other submission route). */
export class IdempotencyConflictError extends CoordinatorError {
  constructor() {
    super('This Idempotency-Key was already used with a different request; use a new key for a new request');
  }
}
