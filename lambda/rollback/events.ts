/**
 * The two ways the function is invoked, parsed at the boundary:
 * - SNS (asynchronous): `Records[].Sns.Message` is the CloudWatch alarm notification as a JSON string:
 *   {"AlarmName", "AlarmDescription", "AWSAccountId", "AlarmConfigurationUpdatedTimestamp", "NewStateValue",
 *    "NewStateReason", "StateChangeTime": "2025-11-26T10:44:12.345+0000", "Region": "EU (Ireland)",
 *    "AlarmArn", "OldStateValue", "OKActions", "AlarmActions", "InsufficientDataActions", "Trigger": {…}}
 *   Note `Region` is a display name; the region code is only in `AlarmArn`.
 * - direct invoke (synchronous, pipelines and `sfdeploy rollback`): the payload of `pipelineRequestSchema`.
 * Nothing here throws: malformed input is a value the handler logs and reports, never an exception that
 * would make Lambda retry an event that can never succeed.
 */
import { z } from 'zod';
import { OWN_MESSAGE_ATTRIBUTE, type PipelineRequest, pipelineRequestSchema } from './contract';
import type { AlarmTrigger } from './decide';

const alarmMessageSchema = z.object({
  AlarmName: z.string().min(1),
  AWSAccountId: z.string().regex(/^\d{12}$/, 'AWSAccountId must be a 12-digit account id'),
  NewStateValue: z.string().min(1),
  OldStateValue: z.string().optional(),
  NewStateReason: z.string().optional(),
  StateChangeTime: z.string().optional(),
  AlarmArn: z.string().optional(),
  Region: z.string().optional(),
});

const snsRecordSchema = z.object({
  EventSource: z.literal('aws:sns'),
  Sns: z.object({
    MessageId: z.string(),
    TopicArn: z.string(),
    Message: z.string(),
    Subject: z.string().nullish(),
    MessageAttributes: z.record(z.string(), z.object({ Type: z.string(), Value: z.string() })).nullish(),
  }),
});

export type ParsedRecord =
  | { readonly kind: 'alarm'; readonly trigger: AlarmTrigger }
  | { readonly kind: 'own-message'; readonly messageId: string }
  | { readonly kind: 'invalid'; readonly problem: string; readonly messageId?: string | undefined };

export type ParsedInvocation =
  | { readonly kind: 'sns'; readonly records: readonly ParsedRecord[] }
  | { readonly kind: 'pipeline'; readonly request: PipelineRequest }
  | { readonly kind: 'invalid-pipeline'; readonly issues: readonly string[] }
  | { readonly kind: 'unknown'; readonly problem: string };

/** CloudWatch writes `+0000`; ECMAScript's date format wants `+00:00`. */
export function parseAlarmTime(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseRecord(record: unknown): ParsedRecord {
  const parsed = snsRecordSchema.safeParse(record);
  if (!parsed.success) return { kind: 'invalid', problem: `not an SNS record: ${issuesOf(parsed.error).join('; ')}` };
  const sns = parsed.data.Sns;
  if (sns.MessageAttributes?.[OWN_MESSAGE_ATTRIBUTE]) return { kind: 'own-message', messageId: sns.MessageId };
  let body: unknown;
  try {
    body = JSON.parse(sns.Message);
  } catch {
    return {
      kind: 'invalid',
      messageId: sns.MessageId,
      problem: `SNS message ${sns.MessageId} is not JSON: ${sns.Message.slice(0, 120)}`,
    };
  }
  const alarm = alarmMessageSchema.safeParse(body);
  if (!alarm.success) {
    return {
      kind: 'invalid',
      messageId: sns.MessageId,
      problem: `SNS message ${sns.MessageId} is not a CloudWatch alarm notification: ${issuesOf(alarm.error).join('; ')}`,
    };
  }
  const a = alarm.data;
  return {
    kind: 'alarm',
    trigger: {
      kind: 'alarm',
      alarmName: a.AlarmName,
      alarmArn: a.AlarmArn,
      accountId: a.AWSAccountId,
      newState: a.NewStateValue,
      oldState: a.OldStateValue,
      stateChangeTime: parseAlarmTime(a.StateChangeTime),
      stateReason: a.NewStateReason,
      messageId: sns.MessageId,
    },
  };
}

export function parseInvocation(event: unknown): ParsedInvocation {
  if (isObject(event) && Array.isArray(event['Records'])) {
    if (event['Records'].length === 0) return { kind: 'unknown', problem: 'event has no Records' };
    return { kind: 'sns', records: event['Records'].map(parseRecord) };
  }
  if (isObject(event) && 'action' in event) {
    const request = pipelineRequestSchema.safeParse(event);
    return request.success
      ? { kind: 'pipeline', request: request.data }
      : { kind: 'invalid-pipeline', issues: issuesOf(request.error) };
  }
  return {
    kind: 'unknown',
    problem: `unrecognised event (neither SNS Records nor {"action":"rollback",…}): ${JSON.stringify(event)?.slice(0, 200) ?? String(event)}`,
  };
}
