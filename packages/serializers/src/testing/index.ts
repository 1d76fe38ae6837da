/**
 * @stratacache/serializers/testing: the serializer contract suite (vitest) and
 * the helpers it uses, for anyone writing a serializer.
 */

export type { SerializerContractOptions } from './contract-suite.js';
export { builtInSerializers, describeSerializerContract } from './contract-suite.js';
export { mutate, randomBytes, seededRandom } from './prng.js';
export { JSON_SAMPLES, TRUNCATION_SAMPLE } from './samples.js';
