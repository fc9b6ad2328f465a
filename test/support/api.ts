/**
 * A small client for Hive's REST API as the e2e suites use it: plain fetch against a listening Hive (in-process or
 * a spawned process), typed answers, and polling helpers that fail with the last state they saw.
 */
import type { components } from '../generated/hive-api.js';
import { pollUntil, type PollOptions } from './poll.js';
import { TEST_ADMIN_KEY } from './test-keys.js';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

type Schemas = components['schemas'];

/** The answers' types come from the OpenAPI document (test/generated), so the suites hold the code to it. */
export type ErrorBody = Schemas['ErrorResponse'];
export type TaskStatus = Schemas['TaskStatus'];
/** A task as the API returns it (timestamps are ISO-8601 strings). */
export type Task = Schemas['TaskResponse'];
export type TaskList = Schemas['TaskListResponse'];
/** What a submission answers: the stored task before any agent has seen it. */
export type SubmittedTask = Schemas['CreatedTaskResponse'];
export type Agent = Schemas['AgentResponse'];

export interface NewAgent {
  id: string;
  endpoint: string;
  specialty: string;
  model?: string;
  max_concurrent?: number;
  /** The protocol it speaks (Hive's default: ollama). */
  kind?: Schemas['AgentKind'];
  /** The server's own key, which Hive sends as Authorization: Bearer. */
  api_key?: string;
  /** false: registered, then disabled with PATCH before any task can reach it. */
  enabled?: boolean;
}

export type NewTask = Schemas['CreateTaskRequest'];

export const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The validation messages of an error answer, always as a list. */
export function messages(body: unknown): string[] {
  const message = (body as Partial<ErrorBody> | null)?.message;
  return Array.isArray(message) ? message : typeof message === 'string' ? [message] : [];
}

export class HiveApi {
  /** `key` is sent as X-API-Key: the admin key test Hives are started with (HIVE_ADMIN_API_KEY). */
  constructor(
    readonly url: string,
    private readonly key: string = TEST_ADMIN_KEY,
  ) {}

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const res = await fetch(this.url + path, {
      method,
      headers: { 'x-api-key': this.key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T };
  }

  /** Like request, but any other status than `expected` throws with the answer in the message. */
  async expect<T>(expected: number, method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request<T>(method, path, body);
    if (res.status !== expected) {
      throw new Error(`${method} ${path} answered ${res.status}, expected ${expected}: ${JSON.stringify(res.body)}`);
    }
    return res.body;
  }

  async registerAgent({ enabled = true, model = 'llama3:8b', ...agent }: NewAgent): Promise<void> {
    await this.expect(201, 'POST', '/api/agents', { model, ...agent });
    if (!enabled) await this.updateAgent(agent.id, { enabled: false });
  }

  updateAgent(id: string, changes: Record<string, unknown>): Promise<Agent> {
    return this.expect<Agent>(200, 'PATCH', `/api/agents/${id}`, changes);
  }

  getAgent(id: string): Promise<Agent> {
    return this.expect<Agent>(200, 'GET', `/api/agents/${id}`);
  }

  submitTask(task: NewTask): Promise<SubmittedTask> {
    return this.expect<SubmittedTask>(201, 'POST', '/api/tasks', task);
  }

  getTask(id: string): Promise<Task> {
    return this.expect<Task>(200, 'GET', `/api/tasks/${id}`);
  }

  listTasks(query: Record<string, string | number> = {}): Promise<TaskList> {
    const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
    return this.expect<TaskList>(200, 'GET', `/api/tasks?${search.toString()}`);
  }

  cancelTask(id: string): Promise<ApiResponse<Task | ErrorBody>> {
    return this.request<Task | ErrorBody>('POST', `/api/tasks/${id}/cancel`);
  }

  /** Waits until the task has `status` (or satisfies `done`) and returns it. */
  waitForTask(
    id: string,
    done: TaskStatus | ((task: Task) => boolean),
    options: Partial<PollOptions> = {},
  ): Promise<Task> {
    const check = typeof done === 'string' ? (t: Task) => t.status === done : done;
    const what = typeof done === 'string' ? `task ${id} to be ${done}` : `task ${id} to reach the expected state`;
    return pollUntil(() => this.getTask(id), check, { describe: what, ...options });
  }

  /** The tasks of `type` (at most 1000) and how many there are in each status. */
  async tasksOfType(type: string): Promise<{ tasks: Task[]; byStatus: Partial<Record<TaskStatus, number>> }> {
    const { tasks } = await this.listTasks({ type, limit: 1000 });
    const byStatus: Partial<Record<TaskStatus, number>> = {};
    for (const task of tasks) byStatus[task.status] = (byStatus[task.status] ?? 0) + 1;
    return { tasks, byStatus };
  }

  /** Waits until `count` tasks of `type` have `status`; returns every task of the type. */
  async waitForTasks(
    type: string,
    status: TaskStatus,
    count: number,
    options: Partial<PollOptions> = {},
  ): Promise<Task[]> {
    let tasks: Task[] = [];
    await pollUntil(
      async () => {
        const state = await this.tasksOfType(type);
        tasks = state.tasks;
        return state.byStatus; // what a failure shows
      },
      (byStatus) => byStatus[status] === count,
      { describe: `${count} tasks of type ${type} to be ${status} (state: tasks by status)`, ...options },
    );
    return tasks;
  }

  /**
   * Waits until a probe has found the models the agent serves: any, or exactly `models` (in any order) when given,
   * which is how a test knows Hive saw a change of the agent's list.
   */
  waitForModels(id: string, models?: readonly string[], options: Partial<PollOptions> = {}): Promise<Agent> {
    const wanted = models === undefined ? undefined : [...models].sort();
    return this.waitForAgent(
      id,
      (agent) =>
        agent.models_probed_at !== null &&
        (wanted === undefined || JSON.stringify([...agent.models].sort()) === JSON.stringify(wanted)),
      wanted === undefined ? 'to be probed' : `to serve exactly ${wanted.join(', ')}`,
      options,
    );
  }

  waitForAgent(
    id: string,
    done: (agent: Agent) => boolean,
    describe: string,
    options: Partial<PollOptions> = {},
  ): Promise<Agent> {
    return pollUntil(() => this.getAgent(id), done, { describe: `agent ${id} ${describe}`, ...options });
  }
}
