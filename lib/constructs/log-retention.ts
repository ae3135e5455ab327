/**
 * CloudWatch Logs retention from the config's number of days, checked instead of cast: `logs.RetentionDays` is an
 * enum whose values are the day counts CloudWatch accepts (PutRetentionPolicy `retentionInDays`:
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html), so a number
 * the config let through that is not one of them fails synth here with its value, not at deploy.
 */
import * as logs from 'aws-cdk-lib/aws-logs';

export function retentionDays(days: number): logs.RetentionDays {
  // A numeric enum: Object.values holds its member names too, which never equal a number.
  const found = Object.values(logs.RetentionDays).find((value): value is logs.RetentionDays => value === days);
  if (found === undefined) throw new Error(`log retention of ${days} days is not a CloudWatch Logs retention period`);
  return found;
}
