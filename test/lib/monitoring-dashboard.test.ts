/** The stage's CloudWatch dashboard: its name, the metrics it graphs and the state of every alarm in the stack. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alarms } from '../helpers/monitoring';
import { only, resourcesOf, synthApp } from '../helpers/synth';

const prod = synthApp({ stage: 'prod' });

// ---------------------------------------------------------------------------------------------------------------

describe('dashboard', () => {
  const dashboard = only(resourcesOf(prod.service, 'AWS::CloudWatch::Dashboard'), 'dashboard');
  const body = JSON.stringify(dashboard.Properties['DashboardBody']);

  it('is named after the stage', () => {
    assert.equal(dashboard.Properties['DashboardName'], 'softfactory-prod');
  });

  it('shows requests, error rate, p95/p99 latency, healthy hosts, CPU, memory, disk and the database', () => {
    for (const metric of [
      'RequestCount',
      'HTTPCode_Target_5XX_Count',
      'HTTPCode_ELB_5XX_Count',
      'TargetResponseTime',
      'HealthyHostCount',
      'UnHealthyHostCount',
      'CPUUtilization',
      'MemoryUtilization',
      'EphemeralStorageUtilized',
      'EphemeralStorageReserved',
      'FreeStorageSpace',
      'DatabaseConnections',
    ]) {
      assert.ok(body.includes(metric), `${metric} on the dashboard`);
    }
    assert.match(body, /\\"stat\\":\\"p95\\"/);
    assert.match(body, /\\"stat\\":\\"p99\\"/);
    assert.match(body, /AWS\/RDS\\",\\"CPUUtilization/);
    assert.match(body, /Error rate/);
  });

  it('shows the state of every alarm in the stack', () => {
    assert.match(body, /\\"type\\":\\"alarm\\"/);
    for (const id of Object.keys(alarms(prod.service))) assert.ok(body.includes(id), `${id} on the dashboard`);
  });
});
