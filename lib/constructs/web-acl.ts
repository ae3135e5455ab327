import { ArnFormat, aws_logs as logs, RemovalPolicy, Stack, aws_wafv2 as wafv2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { dataProtectionPolicy } from './log-archive';
import { retentionDays } from './log-retention';

/** Name of the rate-based rule, which WAF logs as `terminatingRuleId` of the requests it blocks. */
export const RATE_LIMIT_RULE = 'rate-limit-per-ip';

/** Request headers WAF must never write to its logs: bearer tokens and session cookies. */
export const REDACTED_HEADERS = ['authorization', 'cookie'] as const;

export interface WebAclProps {
  /** The resource to protect (the ALB's ARN). */
  readonly resourceArn: string;
  /** Requests one client IP may make in a 5-minute window before WAF blocks it. */
  readonly rateLimit: number;
  /** Retention of the WAF log group, in days. */
  readonly logRetentionDays: number;
  /** Used in the ACL's and log group's names. */
  readonly namePrefix: string;
}

const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesSQLiRuleSet',
] as const;

/**
 * Regional WAF web ACL on the ALB: a per-IP rate-based rule (the checklist's "rate limiting configured") and the
 * AWS managed Common, Known-Bad-Inputs and SQLi rule groups, with every request logged to CloudWatch Logs.
 */
export class WebAcl extends Construct {
  public readonly webAcl: wafv2.CfnWebACL;
  public readonly logGroup: logs.LogGroup;
  /** Saved Logs Insights query `<namePrefix>/waf-rate-limit-blocks`: who was rate-limited, when, on which paths. */
  public readonly rateLimitBlocks: logs.QueryDefinition;

  constructor(scope: Construct, id: string, props: WebAclProps) {
    super(scope, id);
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'Acl', {
      name: `${props.namePrefix}-web-acl`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${props.namePrefix}-web-acl`),
      rules: [
        {
          name: RATE_LIMIT_RULE,
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: props.rateLimit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility(RATE_LIMIT_RULE),
        },
        ...MANAGED_RULE_GROUPS.map((name, i) => ({
          name,
          priority: i + 1,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
          visibilityConfig: visibility(name),
        })),
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.resourceArn,
      webAclArn: this.webAcl.attrArn,
    });

    // WAF requires the log group's name to start with `aws-waf-logs-`.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `aws-waf-logs-${props.namePrefix}`,
      retention: retentionDays(props.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Headers are redacted below; a URI or query string can still carry a token: the app log group's masking applies.
    (this.logGroup.node.defaultChild as logs.CfnLogGroup).dataProtectionPolicy = dataProtectionPolicy(
      this,
      `${props.namePrefix}-waf-data-protection`,
      'Masks credentials and tokens in the WAF request logs of SoftFactory',
    );
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // The ARN WAF wants has no trailing `:*`, unlike LogGroup.logGroupArn.
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: this.logGroup.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      // WAF logs every request's headers; credentials must not land in a log group. Redacted fields are logged as
      // REDACTED (https://docs.aws.amazon.com/waf/latest/developerguide/logging-management.html#logging-redact).
      // WAF matches header names case-insensitively; the API takes them in lower case.
      redactedFields: REDACTED_HEADERS.map((name) => ({ singleHeader: { Name: name } })),
    });

    // "Verify rate limits in logs": a request the rate-based rule blocked is logged with action BLOCK,
    // terminatingRuleType RATE_BASED and the rule's name as terminatingRuleId
    // (https://docs.aws.amazon.com/waf/latest/developerguide/logging-fields.html, logging-examples.html).
    this.rateLimitBlocks = new logs.QueryDefinition(this, 'RateLimitBlocks', {
      queryDefinitionName: `${props.namePrefix}/waf-rate-limit-blocks`,
      logGroups: [this.logGroup],
      queryString: new logs.QueryString({
        fields: ['@timestamp', 'httpRequest.clientIp', 'httpRequest.uri'],
        filterStatements: [
          `action = "BLOCK" and terminatingRuleType = "RATE_BASED" and terminatingRuleId = "${RATE_LIMIT_RULE}"`,
        ],
        statsStatements: ['count(*) as blocked by bin(5m), httpRequest.clientIp'],
        sort: 'blocked desc',
        limit: 100,
      }),
    });
  }
}
