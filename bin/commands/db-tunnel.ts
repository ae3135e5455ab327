/**
 * `sfdeploy db-tunnel`: a local port that leads to the stage's PostgreSQL, which sits in isolated subnets with no route
 * from outside the VPC. Session Manager forwards the port through a running web task (which the database admits),
 * with the document AWS-StartPortForwardingSessionToRemoteHost and the target `ecs:<cluster>_<task id>_<runtime id>`
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-sessions-start.html#sessions-remote-port-forwarding;
 * the target as the AWS CLI builds it for ECS, bin/cli/ecs-target.ts). The tunnel
 * carries PostgreSQL's own TLS end to end; the password is never printed.
 */
import { hostname, userInfo } from 'node:os';
import type { Writable } from 'node:stream';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Command } from 'commander';
import { CONTAINER_NAME } from '../../lib/constructs/web-container';
import { type AwsCliOptions, addAwsOptions, awsClientConfig, explainAwsError } from '../cli/aws';
import { type ExecTarget, findExecTarget, parseStage, ssmTarget, stageNames } from '../cli/ecs-target';
import { endpointOf, findPlugin, profileName, runPlugin } from '../cli/session-plugin';
import { EXIT_CHECK_FAILED, EXIT_OK, runAction, UsageError } from '../cli/support';

export const PORT_FORWARDING_DOCUMENT = 'AWS-StartPortForwardingSessionToRemoteHost';
export const DEFAULT_LOCAL_PORT = 15432;

export interface DbTunnelOptions extends AwsCliOptions {
  readonly stage?: string;
  readonly localPort?: string;
  /** Forward to this host instead of the secret's (a restored instance in the same subnets and security groups). */
  readonly dbHost?: string;
  readonly task?: string;
  readonly cluster?: string;
  readonly service?: string;
  readonly json?: boolean;
}

export interface DbTunnelClients {
  readonly ecs: ECSClient;
  readonly ssm: SSMClient;
  readonly secrets: SecretsManagerClient;
}

export interface DbTunnelIo extends DbTunnelClients {
  readonly run?: typeof runPlugin;
  readonly stdout?: Writable & { isTTY?: boolean };
  readonly stderr?: Writable & { isTTY?: boolean };
  readonly env?: NodeJS.ProcessEnv;
}

/** Where the tunnel leads and how to use it: everything but the password. */
export interface TunnelPlan {
  readonly taskArn: string;
  readonly target: string;
  readonly localHost: '127.0.0.1';
  readonly localPort: number;
  readonly remoteHost: string;
  readonly remotePort: number;
  readonly database: string;
  readonly username: string;
  readonly secretArn: string;
  /** For `sfdeploy migrate --pg-url` (the password from PGPASSWORD): TLS verified against the database's name. */
  readonly pgUrl: string;
  readonly psql: string;
  readonly passwordCommand: string;
  readonly hostsLine: string;
}

export function parseLocalPort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LOCAL_PORT;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1024 || port > 65535) {
    throw new UsageError(`--local-port must be a port number from 1024 to 65535, got "${value}"`);
  }
  return port;
}

/**
 * The database secret's ARN from the task definition's DB_HOST secret. ECS writes a Secrets Manager JSON key reference
 * as `<secret ARN>:<json-key>:<version-stage>:<version-id>`, the secret ARN being its first seven fields
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
 */
export function secretArnOf(valueFrom: string): string {
  const parts = valueFrom.split(':');
  if (parts.length < 7 || parts[2] !== 'secretsmanager' || parts[5] !== 'secret') {
    throw new Error(`DB_HOST of the task definition is not a Secrets Manager reference: ${valueFrom}`);
  }
  return parts.slice(0, 7).join(':');
}

/** Reads where the database is from the secret the running task uses (the same values the app connects with). */
export async function databaseOf(
  clients: DbTunnelClients,
  target: ExecTarget,
): Promise<{ host: string; port: number; database: string; username: string; secretArn: string }> {
  const [{ DescribeTaskDefinitionCommand }, { GetSecretValueCommand }] = await Promise.all([
    import('@aws-sdk/client-ecs'),
    import('@aws-sdk/client-secrets-manager'),
  ]);
  const td = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: target.taskDefinitionArn }));
  const web = td.taskDefinition?.containerDefinitions?.find((c) => c.name === CONTAINER_NAME);
  const hostRef = web?.secrets?.find((s) => s.name === 'DB_HOST')?.valueFrom;
  if (!hostRef) throw new Error(`the task definition of ${target.taskId} gives container ${CONTAINER_NAME} no DB_HOST`);
  const secretArn = secretArnOf(hostRef);
  const value = await clients.secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  // The RDS secret's documented JSON: engine, host, port, username, password, dbname
  // (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html#reference_secret_json_structure_rds-postgres).
  // Only the non-secret fields are kept.
  let fields: { host?: unknown; port?: unknown; username?: unknown; dbname?: unknown };
  try {
    fields = JSON.parse(value.SecretString ?? '{}') as typeof fields;
  } catch {
    throw new Error(`the database secret ${secretArn} is not JSON`);
  }
  if (typeof fields.host !== 'string' || fields.host === '')
    throw new Error(`the database secret ${secretArn} has no host`);
  const dbName = web?.environment?.find((e) => e.name === 'DB_NAME')?.value;
  return {
    host: fields.host,
    port: Number(fields.port ?? 5432),
    database: typeof fields.dbname === 'string' ? fields.dbname : (dbName ?? 'postgres'),
    username: typeof fields.username === 'string' ? fields.username : 'postgres',
    secretArn,
  };
}

export function tunnelPlan(
  target: ExecTarget,
  db: { host: string; port: number; database: string; username: string; secretArn: string },
  localPort: number,
): TunnelPlan {
  const user = encodeURIComponent(db.username);
  return {
    taskArn: target.taskArn,
    target: ssmTarget(target),
    localHost: '127.0.0.1',
    localPort,
    remoteHost: db.host,
    remotePort: db.port,
    database: db.database,
    username: db.username,
    secretArn: db.secretArn,
    pgUrl: `postgresql://${user}@${db.host}:${localPort}/${encodeURIComponent(db.database)}?sslmode=verify-full`,
    psql: `psql "host=${db.host} hostaddr=127.0.0.1 port=${localPort} dbname=${db.database} user=${db.username} sslmode=verify-full sslrootcert=global-bundle.pem"`,
    passwordCommand: `export PGPASSWORD="$(aws secretsmanager get-secret-value --secret-id ${db.secretArn} --query SecretString --output text | jq -r .password)"`,
    hostsLine: `127.0.0.1 ${db.host}`,
  };
}

function requester(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `sfdeploy@${hostname()}`;
  }
}

export async function runDbTunnel(options: DbTunnelOptions, io: DbTunnelIo): Promise<number> {
  const stage = parseStage(options.stage);
  const localPort = parseLocalPort(options.localPort);
  const names = stageNames(stage);
  const cluster = options.cluster ?? names.cluster;
  const service = options.service ?? names.service;
  const plugin = findPlugin(io.env);
  const target = await findExecTarget(io.ecs, { cluster, service, task: options.task });
  const db = await databaseOf(io, target);
  const plan = tunnelPlan(target, options.dbHost ? { ...db, host: options.dbHost } : db, localPort);
  const { StartSessionCommand, TerminateSessionCommand } = await import('@aws-sdk/client-ssm');
  const request = {
    Target: plan.target,
    DocumentName: PORT_FORWARDING_DOCUMENT,
    Parameters: {
      host: [plan.remoteHost],
      portNumber: [String(plan.remotePort)],
      localPortNumber: [String(localPort)],
    },
    // Recorded with the session (Session Manager history, CloudTrail): who opened it from where.
    Reason: `sfdeploy db-tunnel ${stage} by ${requester()}`.slice(0, 256),
  };
  const started = await io.ssm.send(new StartSessionCommand(request));
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  if (options.json) {
    stdout.write(`${JSON.stringify({ stage, cluster, sessionId: started.SessionId, ...plan })}\n`);
  } else {
    stderr.write(
      [
        `Tunnel 127.0.0.1:${localPort} → ${plan.remoteHost}:${plan.remotePort} through task ${target.taskId}; it stays open until Ctrl-C.`,
        `Password (never printed; field "password" of ${plan.secretArn}):`,
        `  ${plan.passwordCommand}`,
        'psql (TLS verified against the database name, connecting to the tunnel):',
        `  ${plan.psql}`,
        'sfdeploy migrate verifies TLS against the URL host, so first point that name at the tunnel (remove the line afterwards):',
        `  echo "${plan.hostsLine}" | sudo tee -a /etc/hosts`,
        `  sfdeploy migrate platform.db --pg-url "${plan.pgUrl}" --verify-only`,
        '',
      ].join('\n'),
    );
  }
  let result: Awaited<ReturnType<typeof runPlugin>>;
  try {
    result = await (io.run ?? runPlugin)(
      plugin,
      {
        session: { SessionId: started.SessionId, TokenValue: started.TokenValue, StreamUrl: started.StreamUrl },
        region: await io.ssm.config.region(),
        profile: profileName(options.profile, io.env),
        request,
        endpoint: await endpointOf(io.ssm),
      },
      { outputToStderr: Boolean(options.json) },
    );
  } catch (error) {
    // As the AWS CLI does when the plugin cannot start: end the session rather than leave it open on the agent.
    await io.ssm.send(new TerminateSessionCommand({ SessionId: started.SessionId })).catch(() => undefined);
    throw error;
  }
  // Ctrl-C is how a tunnel is meant to end: the plugin closes the session and exits (0, or by the signal).
  if (result.code === 0 || result.code === 130 || result.signal === 'SIGINT' || result.signal === 'SIGTERM') {
    return EXIT_OK;
  }
  stderr.write(`sfdeploy: the tunnel ended abnormally (session-manager-plugin exit ${result.code ?? result.signal})\n`);
  return EXIT_CHECK_FAILED;
}

const HELP = `
The database is in isolated subnets: this opens a local port that leads to it through a running web task (Session
Manager port forwarding, the same agent as ECS Exec), then prints how to connect — psql, and the --pg-url for
\`sfdeploy migrate --verify-only\` (the runbook's migration check and the database-restore check). The host, port,
user and database come from the database secret the task uses; the password stays in the secret and is never
printed (PGPASSWORD, read by psql and by sfdeploy migrate). Needs the Session Manager plugin on PATH and, for you,
ssm:StartSession on the task and on the document ${PORT_FORWARDING_DOCUMENT}, ecs:ListTasks, ecs:DescribeTasks,
ecs:DescribeTaskDefinition and secretsmanager:GetSecretValue on the database secret.

Exit codes: 0 the tunnel was closed (Ctrl-C); 1 the plugin ended abnormally; 2 usage, no ready task, plugin missing,
or AWS access problem. With --json, one JSON document on stdout (everything but the password) before the tunnel opens.

Examples:
  sfdeploy db-tunnel --stage prod
  sfdeploy db-tunnel --stage staging --local-port 25432
  sfdeploy db-tunnel --stage prod --db-host softfactory-prod-restore-20261126.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com
  sfdeploy db-tunnel --stage prod --json > tunnel.json &`;

export function register(
  program: Command,
  makeClients: (aws: AwsCliOptions) => DbTunnelClients | Promise<DbTunnelClients> = defaultClients,
): void {
  const command = program
    .command('db-tunnel')
    .description("Forward a local port to the stage's PostgreSQL through a running task (Session Manager)")
    .requiredOption('--stage <stage>', 'stage: dev, staging, prod')
    .option('--local-port <port>', `local port (default ${DEFAULT_LOCAL_PORT})`)
    .option('--db-host <endpoint>', "forward to this host instead of the secret's (e.g. a restored instance)")
    .option('--task <id>', 'task id or ARN to forward through (default: the newest healthy task ready for ECS Exec)')
    .option('--cluster <name>', 'cluster name (default softfactory-<stage>)')
    .option('--service <name>', 'service name (default softfactory-<stage>-web)')
    .option('--json', 'print the connection details as one JSON document')
    .addHelpText('after', HELP);
  addAwsOptions(command).action((options: DbTunnelOptions) =>
    runAction(
      async () => {
        parseStage(options.stage);
        parseLocalPort(options.localPort);
        findPlugin();
        return runDbTunnel(options, await makeClients(options));
      },
      { json: options.json, explain: (error) => explainAwsError(error, options) },
    ),
  );
}

async function defaultClients(aws: AwsCliOptions): Promise<DbTunnelClients> {
  const [{ ECSClient }, { SSMClient }, { SecretsManagerClient }] = await Promise.all([
    import('@aws-sdk/client-ecs'),
    import('@aws-sdk/client-ssm'),
    import('@aws-sdk/client-secrets-manager'),
  ]);
  const config = awsClientConfig(aws);
  return { ecs: new ECSClient(config), ssm: new SSMClient(config), secrets: new SecretsManagerClient(config) };
}
