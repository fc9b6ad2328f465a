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

/** No registered agent serves some of the submitted task types. */
export class UnservedTaskTypesError extends CoordinatorError {
  constructor(
    readonly unserved: readonly string[],
    readonly served: readonly string[],
  ) {
    const list = unserved.map((type) => `"${type}"`).join(', ');
    super(
      `No registered agent serves task type${unserved.length > 1 ? 's' : ''} ${list}; ` +
        `served types: ${served.length > 0 ? served.join(', ') : 'none'}`,
    );
  }
}
