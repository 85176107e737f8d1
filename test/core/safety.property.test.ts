/**
 * The safety net, proven at scale: random cases (sessions five minutes to sixty days away, across
 * both clock changes, every contact method, risk at the start or later, absences, resubmissions of
 * risk, closures) driven through random event sequences with faults (teams and the therapist
 * unreachable, Notify and bounces failing the client's messages, MPB down), against the pure
 * decision core the workflow runs. Every invariant is checked after every step.
 *
 * FC_RUNS sets the number of cases (at least 10,000 in CI); FC_SEED replays a printed seed.
 */
import fc from 'fast-check';
import { decide, initialState } from '../../workflows/case/core';
import { SESSION_START_INVARIANT, STEP_INVARIANTS, toldBySessionStart } from './invariants';
import { DEFAULT_POLICY, scenarioArb, stepArb, World, type Applied } from './world';

const RUNS = Number(process.env.FC_RUNS ?? 10_000);
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

class Violation extends Error {}

export function runScenario(scenario: ConstructorParameters<typeof World>[0], steps: Parameters<World['run']>[0][]): World {
  const check = (a: Applied, after: World['state']) => {
    for (const inv of STEP_INVARIANTS) {
      const problem = inv.check(a, after, scenario.policy);
      if (problem) throw new Violation(`${inv.name}: ${problem}\n${world.log().join('\n')}`);
    }
  };
  const atStart = (state: Parameters<typeof toldBySessionStart>[0], start: number) => {
    const problem = toldBySessionStart(state, start);
    if (problem) throw new Violation(`${SESSION_START_INVARIANT}: ${problem}\n${world.log().join('\n')}`);
  };
  let world: World = undefined as unknown as World;
  world = new World(scenario, (a, after) => check(a, after), atStart, true, (w) => (world = w));
  for (const step of steps) world.run(step);
  world.settle();
  return world;
}

describe(`safety invariants of the case core over ${RUNS} random cases (seed ${SEED}; replay with FC_SEED=${SEED})`, () => {
  beforeAll(() => {
    process.stdout.write(`[safety property] FC_SEED=${SEED} FC_RUNS=${RUNS}\n`);
  });

  test(`D1-D10 every invariant holds after every step: ${[...STEP_INVARIANTS.map((i) => i.name), SESSION_START_INVARIANT].join('; ')}`, () => {
    const started = Date.now();
    fc.assert(
      fc.property(scenarioArb, fc.array(stepArb, { minLength: 1, maxLength: 40 }), (scenario, steps) => {
        runScenario(scenario, steps);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: false },
    );
    process.stdout.write(`[safety property] ${RUNS} cases in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }, 300_000);

  test('decide is pure: the state it was given is left as it was, and the same inputs give the same decision', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const t = Date.parse(scenario.input.submittedAt);
        const s0 = initialState(scenario.input);
        const frozen = JSON.stringify(s0);
        const a = decide(s0, { type: 'start' }, t, DEFAULT_POLICY);
        const b = decide(s0, { type: 'start' }, t, DEFAULT_POLICY);
        expect(JSON.stringify(s0)).toBe(frozen);
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      }),
      { numRuns: 200, seed: SEED },
    );
  });
});
