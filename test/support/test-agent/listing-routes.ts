/** The model-listing probes: Ollama's GET /api/tags and GET /api/ps, OpenAI's GET /v1/models. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentState } from './agent-state.js';
import { ollamaErrors, openAiErrors } from './error-answers.js';
import { sendJson } from './http.js';
import { openAiModelEntry, psEntry, tagEntry } from './model-catalog.js';

export type Listing = 'tags' | 'ps' | 'models';

function count(state: AgentState, listing: Listing): void {
  if (listing === 'tags') state.tagsCalls += 1;
  else if (listing === 'ps') state.psCalls += 1;
  else state.modelsCalls += 1;
}

function listed(state: AgentState, listing: Listing): unknown {
  switch (listing) {
    case 'tags':
      return { models: state.models.map(tagEntry) };
    case 'ps': {
      const now = Date.now();
      return { models: state.memory.models.map((name) => psEntry(name, now)) };
    }
    case 'models':
      return { object: 'list', data: state.models.map(openAiModelEntry) };
  }
}

/** Counted, then answered as the tags behaviour says (it applies to every listing alike). */
export function handleListing(state: AgentState, listing: Listing, req: IncomingMessage, res: ServerResponse): void {
  count(state, listing);
  const errors = listing === 'models' ? openAiErrors : ollamaErrors;
  if (!state.authorized(req)) return errors.unauthorized(res, req.headers.authorization);
  switch (state.tagsBehavior) {
    case 'down':
      req.socket.resetAndDestroy();
      return;
    case 'error':
      return errors.error(res, 500, 'internal server error');
    case 'hang':
      return; // never answered; close() or the client ends it
    case 'ok':
      return sendJson(res, 200, listed(state, listing));
  }
}
