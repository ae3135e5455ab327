/**
 * Structured logging through Powertools (JSON lines with level, service, timestamp, cold start), behind the
 * small interface the cores depend on, so tests can record log lines instead of parsing stdout.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export interface StructuredLog {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export function powertoolsLog(serviceName: string): StructuredLog {
  const logger = new Logger({ serviceName });
  return {
    info: (message, attributes = {}) => logger.info(message, attributes),
    warn: (message, attributes = {}) => logger.warn(message, attributes),
    error: (message, attributes = {}) => logger.error(message, attributes),
  };
}
