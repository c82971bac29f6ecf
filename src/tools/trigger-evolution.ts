import { z } from 'zod';
import { FITNESS_METRICS } from '../wire/daemons.js';
import { assertAvailable, socketBackend } from './availability.js';
import { ToolExecutionError } from './errors.js';
import { requestId } from './ids.js';
import { parseReply } from './reply.js';
import type { ToolDefinition } from './types.js';

/** Time the evolution daemon has to answer by default: the bridge's `evolution` backend `requestTimeoutMs`, which the tool uses. */
export const EVOLUTION_TIMEOUT_MS = 60_000;

export const triggerEvolutionInput = z.object({
  seed_shader: z.string().min(1).describe('Shader source the evolution starts from.'),
  generations: z.number().int().min(1).max(100).default(10),
  fitness_metric: z.enum(FITNESS_METRICS).default('performance'),
  mutation_rate: z.number().min(0.01).max(0.5).default(0.1),
  population_size: z.number().int().min(2).max(1000).default(20),
});

/** The evolution daemon's reply (`EvolutionReply`), as far as the tool reads it (other fields are left out). */
export const evolutionReply = z.object({
  success: z.boolean().nullish(),
  error: z.string().nullish(),
  bestFitness: z.number().nullish(),
  generationsCompleted: z.number().int().min(0).nullish(),
  evolvedShader: z.string().nullish(),
  cartridgeId: z.string().nullish(),
});

/** `trigger_evolution`'s answer (a field is null when the daemon did not give it). */
export const triggerEvolutionOutput = z.object({
  bestFitness: z.number().nullable().describe('Fitness of the best shader found.'),
  generationsCompleted: z.number().int().min(0).nullable().describe('Generations run.'),
  evolvedShader: z.string().nullable().describe('Source of the best shader found.'),
  cartridgeId: z.string().nullable().describe('Id of the cartridge the daemon stored it in.'),
});

/**
 * `trigger_evolution`: `{ requestId: "evo_<ms>_<random>", action: "evolve", … }` over the evolution
 * socket, reply within 60 s. Not retried (an evolution is not idempotent); fails fast when the socket
 * is down (`BACKEND_UNAVAILABLE`) or its breaker open (`CIRCUIT_OPEN`).
 */
export function triggerEvolutionTool(
  options: { backend?: string; timeoutMs?: number } = {},
): ToolDefinition<typeof triggerEvolutionInput> {
  const backendName = options.backend ?? 'evolution';
  return {
    name: 'trigger_evolution',
    title: 'Evolve a shader',
    // Starts work in the evolution daemon (a new cartridge each time); replaces nothing.
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    description: 'Asks the evolution daemon to evolve a shader; returns the best one found.',
    inputSchema: triggerEvolutionInput,
    outputSchema: triggerEvolutionOutput,
    backend: backendName,
    async handler(args, { backend, clock, random, signal }) {
      const socket = socketBackend(backend, backendName);
      assertAvailable(socket, clock.now());
      const reply = parseReply(
        evolutionReply,
        await socket.request<unknown>(
          { requestId: requestId('evo', clock.now(), random), action: 'evolve', ...args },
          { timeoutMs: options.timeoutMs, signal },
        ),
        "the evolution daemon's reply",
      );
      if (reply.success === false) throw new ToolExecutionError(reply.error ?? 'evolution failed');
      return {
        bestFitness: reply.bestFitness ?? null,
        generationsCompleted: reply.generationsCompleted ?? null,
        evolvedShader: reply.evolvedShader ?? null,
        cartridgeId: reply.cartridgeId ?? null,
      };
    },
  };
}
