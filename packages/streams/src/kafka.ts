/**
 * @stratacache/streams/kafka: the Kafka source, on kafkajs (an optional peer:
 * install `kafkajs` and pass your `new Kafka(...)`).
 */

export type {
  KafkaAdminLike,
  KafkaConsumerLike,
  KafkaEachBatchLike,
  KafkaLike,
  KafkaMessageLike,
  KafkaSourceOptions,
} from './kafka-source.js';
export { KafkaSource } from './kafka-source.js';
