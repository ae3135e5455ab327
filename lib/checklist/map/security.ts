/**
 * The checklist map's SECURITY PHASE: authentication and authorization, data protection,
 * input validation, API security.
 * One part of CHECKLIST_MAP: lib/checklist/checklist-map.ts lists the parts in the checklist's order.
 */
import type { MapEntry } from '../coverage';
import {
  APP_CI,
  AUDIT_MONITORING,
  BOTH_SHIFTS,
  CONFIG,
  cdk,
  cli,
  DATABASE_HARDENING,
  FIRST_CONTACT,
  HARDENING_ENCRYPTION,
  MIGRATE_PG,
  MIGRATE_RESUME,
  MIGRATE_SCHEMA,
  MONITORING_LOGS,
  pin,
  SMOKE_DEFAULT,
  SMOKE_SPEC,
  STACKS,
  section,
  smoke,
  test,
} from './refs';

export const SECURITY_PHASE: readonly MapEntry[] = [
  ...section('SECURITY PHASE › 1. Authentication & Authorization', [
    {
      id: 'sec-1-jwt-validated',
      text: 'JWT tokens validated',
      enforcement: [
        ...smoke('invalid-token', 'auth-me'),
        ...BOTH_SHIFTS,
        test(
          SMOKE_SPEC,
          'checks CORS with the configured allowed origin, exactly, and invalid tokens with a JSON error',
        ),
      ],
    },
    {
      id: 'sec-1-demo-token',
      text: 'demo_token mechanism working',
      enforcement: [
        ...smoke('demo-token-accepted', 'demo-token-refused', 'test-token-refused', 'auth-me-token'),
        ...BOTH_SHIFTS,
      ],
      note:
        'A test-stage check (dev runs the app in test mode, where demo-token-accepted holds); the production stages ' +
        'check that the mechanism is off (demo-token-refused, test-token-refused). The bearer mechanism itself is ' +
        'exercised with the smoke user’s token (auth-me-token). See team-a-demo-token.',
    },
    {
      id: 'sec-1-cors',
      text: 'CORS configured correctly',
      enforcement: [
        ...smoke('cors-health', 'cors-foreign-origin'),
        ...BOTH_SHIFTS,
        test(
          SMOKE_SPEC,
          'checks CORS with the configured allowed origin, exactly, and invalid tokens with a JSON error',
        ),
        test(SMOKE_DEFAULT, 'asserts every configured origin, one check each'),
      ],
      note:
        'The task’s CORS_ORIGINS and the checks come from one config key (corsAllowedOrigins, default https://<domainName>): ' +
        'each configured origin must be echoed exactly, `*` fails, and an origin not configured gets no grant.',
    },
  ]),
  ...section('SECURITY PHASE › 2. Data Protection', [
    {
      id: 'sec-2-postgresql',
      text: 'Database is SQLite (dev) → switch to PostgreSQL (prod)',
      enforcement: [
        cdk(
          'RDS PostgreSQL 17, encrypted, isolated subnets',
          STACKS,
          'runs PostgreSQL 17 in the isolated subnets, encrypted with its own KMS key',
        ),
        cdk(
          'the app reads DATABASE_URL assembled from the database secret',
          STACKS,
          'runs container web on 8000 with the stage’s app mode and DATABASE_URL assembled at start from Secrets Manager',
        ),
        cli('migrate'),
        cdk(
          'the master password rotated by Secrets Manager every databaseCredentialRotationDays',
          DATABASE_HARDENING,
          'rotates the master secret every databaseCredentialRotationDays (default 30) and never as a side effect of a deploy',
        ),
        cdk(
          'IAM database authentication enabled',
          DATABASE_HARDENING,
          'enables IAM database authentication in every stage',
        ),
      ],
    },
    {
      id: 'sec-2-migration-script',
      text: 'Create PostgreSQL migration script',
      enforcement: [
        cli('migrate'),
        test(MIGRATE_PG, 'loads every row and verifies counts, checksums, keys and indexes'),
        test(
          MIGRATE_RESUME,
          'leaves no partly loaded table that looks complete, and the rerun ends with identical checksums',
        ),
      ],
    },
    {
      id: 'sec-2-schema-transfer',
      text: 'Test schema transfer',
      enforcement: [
        cli('migrate'),
        test(MIGRATE_PG, 'translates column types, order and lengths the way the app relies on'),
        test(MIGRATE_SCHEMA, 'maps every Flask-SQLAlchemy declared type to the PostgreSQL type the app expects'),
        test(MIGRATE_PG, 'loads into tables the app created, converting by the target column types'),
      ],
    },
    {
      id: 'sec-2-verify-data-integrity',
      text: 'Verify data integrity post-migration',
      enforcement: [
        cli('migrate'),
        test(MIGRATE_PG, 'loads every row and verifies counts, checksums, keys and indexes'),
        test(MIGRATE_PG, '--verify-only finds a changed value in the target'),
        test(MIGRATE_PG, 'keeps 64-bit integers, Korean and emoji text, blobs and JSON exactly'),
      ],
    },
    {
      id: 'sec-2-passwords-hashed',
      text: 'Passwords hashed (werkzeug.security)',
      outOfScope: `A grep of backend/models.py for generate_password_hash ${APP_CI}; hashing happens inside the app.`,
    },
    {
      id: 'sec-2-sensitive-data-not-logged',
      text: 'Sensitive data not logged',
      enforcement: [
        cdk(
          'data-protection policy masking credentials and tokens in the app log group',
          MONITORING_LOGS,
          'audits and masks credentials and tokens in the app’s log group',
          pin('service', 'AWS::Logs::LogGroup', 'DataProtectionPolicy'),
        ),
        cdk(
          'masking patterns for what SoftFactory could log',
          MONITORING_LOGS,
          'masks the secrets SoftFactory could log, and leaves ordinary lines alone',
        ),
        cdk(
          'the container logs to that masked group',
          AUDIT_MONITORING,
          'is the group that is masked, archived, queried and read for errors',
        ),
        cdk(
          'WAF logs redact the authorization and cookie headers',
          FIRST_CONTACT,
          'redacts the authorization and cookie headers in the WAF logs',
        ),
        cdk(
          'the WAF log group masks the same identifiers',
          MONITORING_LOGS,
          'masks the same credentials and tokens in the WAF log group, whose URIs and query strings can carry them',
        ),
        cdk('no password in any template', STACKS, 'puts no password in any template'),
        cdk(
          'every log group encrypted with its stack’s customer-managed key',
          HARDENING_ENCRYPTION,
          'encrypts a log group added later by any construct, and leaves one that names its own key alone',
        ),
      ],
      note:
        'Credentials and tokens are masked in every log group a request or the app writes to (CloudWatch Logs masks on ' +
        'read; logs:Unmask is an IAM permission nobody is granted here), the WAF never logs the Authorization or Cookie ' +
        'header, and every log group is encrypted with its stack’s key.',
    },
  ]),
  ...section('SECURITY PHASE › 3. Input Validation', [
    {
      id: 'sec-3-post-validation',
      text: 'POST endpoints validate request data',
      enforcement: [
        ...smoke('input-validation'),
        ...BOTH_SHIFTS,
        test(SMOKE_DEFAULT, 'catches missing input validation, and still deletes the post it created by mistake'),
      ],
    },
    {
      id: 'sec-3-sql-injection',
      text: 'SQL injection prevention (SQLAlchemy ORM used)',
      enforcement: [
        cdk(
          'WAF web ACL with AWSManagedRulesSQLiRuleSet on the ALB, blocking (no count mode)',
          STACKS,
          'protects the ALB with a WAF web ACL: per-IP rate limit, three AWS managed rule groups, and logging',
          pin('service', 'AWS::WAFv2::WebACL', 'Rules.1.OverrideAction'),
        ),
      ],
      note:
        'The deployment’s SQL injection control is at the edge: the SQLi managed rule group blocks at the ALB. That the ' +
        'app uses the ORM is its own code (its CI).',
    },
  ]),
  ...section('SECURITY PHASE › 4. API Security', [
    {
      id: 'sec-4-rate-limiting',
      text: 'Rate limiting configured',
      enforcement: [
        cdk(
          'WAF rate-based rule per client IP (wafRateLimit)',
          STACKS,
          'protects the ALB with a WAF web ACL: per-IP rate limit, three AWS managed rule groups, and logging',
          pin('service', 'AWS::WAFv2::WebACL', 'Rules.0.Action'),
        ),
      ],
    },
    {
      id: 'sec-4-flask-limiter',
      text: 'Check Flask-Limiter setup',
      outOfScope:
        'Flask-Limiter is the app’s library and configuration; the deployment limits per client IP at the edge instead ' +
        '(sec-4-rate-limiting), which also holds with several tasks, where an in-process limiter counts per task.',
    },
    {
      id: 'sec-4-rate-limit-logs',
      text: 'Verify rate limits in logs',
      enforcement: [
        // The logging destination is a required property: no pin can remove it, the test asserts its value.
        test(
          STACKS,
          'protects the ALB with a WAF web ACL: per-IP rate limit, three AWS managed rule groups, and logging',
        ),
        cdk(
          'saved Logs Insights query for the requests the rate-based rule blocked',
          AUDIT_MONITORING,
          'saves a Logs Insights query on the WAF log group for the requests the rate-based rule blocked',
        ),
      ],
    },
    {
      id: 'sec-4-https-required',
      text: 'HTTPS required (prod)',
      enforcement: [
        cdk(
          'HTTPS listener on 443, TLS 1.3 policy',
          STACKS,
          'serves HTTPS on 443 with the certificate and a TLS 1.3 policy',
          pin('service', 'AWS::ElasticLoadBalancingV2::Listener', 'SslPolicy'),
        ),
        cdk(
          'HTTP listener answers 301 to HTTPS',
          STACKS,
          'redirects HTTP to HTTPS with a 301',
          pin('service', 'AWS::ElasticLoadBalancingV2::Listener', 'DefaultActions.0.RedirectConfig'),
        ),
        ...smoke('hsts', 'http-redirect'),
        ...BOTH_SHIFTS,
      ],
      note: 'On the production stages the smoke hooks check the deployed app sends Strict-Transport-Security (hsts) and plain HTTP is redirected (http-redirect).',
    },
    {
      id: 'sec-4-tls-certificate',
      text: 'SSL/TLS certificate obtained',
      enforcement: [
        cdk(
          'ACM certificate imported by ARN or DNS-validated',
          CONFIG,
          'imports a certificate by ARN or creates a DNS-validated one',
        ),
        cdk(
          'the smoke hooks verify TLS against the configured host name',
          CONFIG,
          'requires the host name with an imported certificate, since the smoke checks verify TLS against it',
        ),
        ...BOTH_SHIFTS,
      ],
      note: 'Synth without a certificate warns (softfactory:placeholder-certificate); a deploy would fail at the listener.',
    },
    {
      id: 'sec-4-redirect-https',
      text: 'Redirect HTTP → HTTPS',
      enforcement: [
        cdk(
          'HTTP listener answers 301 to HTTPS',
          STACKS,
          'redirects HTTP to HTTPS with a 301',
          pin('service', 'AWS::ElasticLoadBalancingV2::Listener', 'DefaultActions.0.RedirectConfig'),
        ),
        ...smoke('http-redirect'),
        ...BOTH_SHIFTS,
      ],
      note: 'http-redirect sends plain HTTP to the deployed load balancer on the production stages (staging, prod).',
    },
    {
      id: 'sec-4-api-versioning',
      text: 'API versioning (optional but recommended)',
      outOfScope: 'API design of the app (its URL structure); nothing for the deployment to enforce.',
    },
    {
      id: 'sec-4-plan-versions',
      text: 'Plan v1/v2 endpoint structure',
      outOfScope: 'A design decision for the app’s developers; the deployment serves whatever routes the app has.',
    },
    {
      id: 'sec-4-document-versions',
      text: 'Document API versions',
      outOfScope: 'Documentation of the app’s API, written by its developers.',
    },
  ]),
];
