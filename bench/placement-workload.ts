/**
 * The placement phase's work: test agents that hold few models at once and take time to load one, the models they
 * serve, and a seeded, skewed mix of tasks over those models, the same for both placement strategies.
 */
import type { NewTask } from '../test/support/api.js';
import { startOllamaAgent, type OllamaAgent } from '../test/support/ollama-agent.js';
import type { PlacementSettings } from './settings.js';
import type { AgentRow } from './workload.js';

/** The agents' specialty; the tasks name no type, only a model, so it does not choose them. */
const SPECIALTY = 'bench-placement';

/** `bench-m1:7b` … : model 1 is the most asked for. */
export const placementModels = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => `bench-m${i + 1}:7b`);

/** mulberry32: a small seeded generator of numbers in [0, 1), the same sequence on every machine. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Zipf-like shares: model k (1-based) weighs 1 / k^s, normalised to sum to 1. */
export function zipfShares(count: number, s: number): number[] {
  const weights = Array.from({ length: count }, (_, k) => 1 / (k + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

/** The model of each task, drawn independently from the shares with a seeded generator. */
export function modelMix(settings: PlacementSettings): string[] {
  const models = placementModels(settings.models);
  const shares = zipfShares(settings.models, settings.zipf);
  const random = seededRandom(settings.seed);
  return Array.from({ length: settings.tasks }, () => {
    let r = random();
    for (const [k, share] of shares.entries()) {
      r -= share;
      if (r < 0) return models[k] ?? '';
    }
    return models.at(-1) ?? '';
  });
}

/** Task `i` of the mix: a model and a prompt, priority 3. */
export const placementTask = (mix: readonly string[], i: number): NewTask => ({
  model: mix[i],
  priority: 3,
  context: { prompt: `placement task ${i}` },
});

/** Fresh agents (nothing loaded, no loads counted), each serving every model, with model memory. */
export function startPlacementAgents(settings: PlacementSettings): Promise<OllamaAgent[]> {
  return Promise.all(
    Array.from({ length: settings.agents }, () =>
      startOllamaAgent({
        models: placementModels(settings.models),
        memory: { maxLoaded: settings.maxLoaded, loadDelayMs: settings.loadMs },
        behavior: { kind: 'ok', delayMs: settings.answerMs },
      }),
    ),
  );
}

/** The models each agent holds during the warm-up: the first `maxLoaded` of the list. */
export const warmUpModels = (settings: PlacementSettings): string[] =>
  placementModels(settings.models).slice(0, settings.maxLoaded);

/** POST /api/generate straight to the agent (not through Hive); throws unless 200. */
async function generate(agent: OllamaAgent, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${agent.url}/api/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stream: false, ...body }),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${agent.url}/api/generate answered ${res.status}`);
}

/** Each agent loads the warm-up models (one after the other), so that GET /api/ps shows it full. */
export async function fillAgents(settings: PlacementSettings, agents: readonly OllamaAgent[]): Promise<void> {
  await Promise.all(
    agents.map(async (agent) => {
      for (const model of warmUpModels(settings)) await generate(agent, { model, prompt: 'warm-up' });
    }),
  );
}

/** Each agent unloads the warm-up models (Ollama's empty prompt with keep_alive 0): nothing stays in memory. */
export async function emptyAgents(settings: PlacementSettings, agents: readonly OllamaAgent[]): Promise<void> {
  for (const agent of agents) {
    for (const model of warmUpModels(settings)) await generate(agent, { model, prompt: '', keep_alive: 0 });
    if (agent.loadedModels.length > 0) throw new Error(`${agent.url} still holds ${agent.loadedModels.join(', ')}`);
  }
}

export function placementAgentRows(settings: PlacementSettings, agents: readonly OllamaAgent[]): AgentRow[] {
  const models = placementModels(settings.models);
  return agents.map((agent, i) => ({
    id: `placement-agent-${i + 1}`,
    endpoint: agent.url,
    model: models[0] ?? '',
    specialty: SPECIALTY,
    max_concurrent: settings.agentConcurrency,
  }));
}
