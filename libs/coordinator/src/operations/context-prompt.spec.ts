import { buildPrompt, inputFromContext } from './context-prompt.js';

describe('buildPrompt', () => {
  it('uses context.prompt as it is, rendering nothing else into it', () => {
    expect(buildPrompt('summarize', { prompt: 'Say hello.', text: 'not rendered' })).toEqual({ prompt: 'Say hello.' });
  });

  it('renders the context as "key: value" lines under a "Task: <type>" header', () => {
    expect(buildPrompt('summarize', { text: 'Bees make honey.', words: 50, strict: true, tone: null })).toEqual({
      prompt: 'Task: summarize\ntext: Bees make honey.\nwords: 50\nstrict: true\ntone: null',
    });
  });

  it('indents nested objects and numbers the items of arrays from 1', () => {
    const context = {
      doc: { title: 'Bees', meta: { lang: 'en' } },
      tags: ['insects', 'honey'],
      sources: [{ url: 'https://example.com/bees' }],
    };
    expect(buildPrompt('summarize', context).prompt).toBe(
      [
        'Task: summarize',
        'doc:',
        '  title: Bees',
        '  meta:',
        '    lang: en',
        'tags:',
        '  1: insects',
        '  2: honey',
        'sources:',
        '  1:',
        '    url: https://example.com/bees',
      ].join('\n'),
    );
  });

  it('gives the header alone for an empty context', () => {
    expect(buildPrompt('ping', {})).toEqual({ prompt: 'Task: ping' });
  });

  it('passes system and options through to Ollama, outside the prompt', () => {
    const context = { text: 'x', system: 'Answer in one line.', options: { temperature: 0, num_ctx: 4096 } };
    expect(buildPrompt('summarize', context)).toEqual({
      prompt: 'Task: summarize\ntext: x',
      system: 'Answer in one line.',
      options: { temperature: 0, num_ctx: 4096 },
    });
    expect(buildPrompt('summarize', { prompt: 'Hi', system: 'Be brief.' })).toEqual({
      prompt: 'Hi',
      system: 'Be brief.',
    });
  });

  it('drops a prompt or system that is not a string and options that are not an object, rendering none of them', () => {
    expect(buildPrompt('summarize', { prompt: 42, system: ['a'], options: [1, 2], text: 'x' })).toEqual({
      prompt: 'Task: summarize\ntext: x',
    });
    expect(buildPrompt('summarize', { options: null, system: null })).toEqual({ prompt: 'Task: summarize' });
  });

  it('treats a context that is not an object as an empty one', () => {
    for (const context of [null, 'text', 42, true]) {
      expect(buildPrompt('summarize', context as Record<string, unknown> | null)).toEqual({
        prompt: 'Task: summarize',
      });
    }
  });
});

describe('inputFromContext', () => {
  const context = { text: 'Bees make honey.', system: 'Answer in one line.', options: { temperature: 0 } };

  it('makes a generate input of the prompt, its system prompt and options', () => {
    expect(inputFromContext('generate', 'summarize', context)).toStrictEqual({
      operation: 'generate',
      input: {
        prompt: 'Task: summarize\ntext: Bees make honey.',
        system: 'Answer in one line.',
        options: { temperature: 0 },
      },
    });
  });

  it('makes a chat input of a user message after the system prompt, with the options', () => {
    expect(inputFromContext('chat', 'summarize', context)).toStrictEqual({
      operation: 'chat',
      input: {
        messages: [
          { role: 'system', content: 'Answer in one line.' },
          { role: 'user', content: 'Task: summarize\ntext: Bees make honey.' },
        ],
        options: { temperature: 0 },
      },
    });
    expect(inputFromContext('chat', 'summarize', { prompt: 'Hi' }).input).toEqual({
      messages: [{ role: 'user', content: 'Hi' }],
    });
  });

  it("makes an embed input of the prompt's text, with the options", () => {
    expect(inputFromContext('embed', 'index', { prompt: 'Bees make honey.', options: { num_ctx: 512 } })).toStrictEqual(
      {
        operation: 'embed',
        input: { input: 'Bees make honey.', options: { num_ctx: 512 } },
      },
    );
  });

  it('renders the context without a header for a task of no type', () => {
    expect(inputFromContext('generate', '', { text: 'Bees' }).input).toEqual({ prompt: 'text: Bees' });
  });
});
