/**
 * The checklist map's FINAL SIGN-OFF: checklist completion and the deployment approval
 * (people, not code).
 * One part of CHECKLIST_MAP: lib/checklist/checklist-map.ts lists the parts in the checklist's order.
 */
import type { MapEntry } from '../coverage';
import { rollUp, section, signOff } from './refs';

export const SIGN_OFF_PHASE: readonly MapEntry[] = [
  ...section('FINAL SIGN-OFF › Pre-Deployment Checklist Completion', [
    {
      id: 'signoff-completion-pre-deployment',
      text: 'All 4 PRE-DEPLOYMENT items complete',
      outOfScope: rollUp('PRE-DEPLOYMENT'),
    },
    {
      id: 'signoff-completion-team-readiness',
      text: 'All 8 TEAM READINESS items complete',
      outOfScope: rollUp('TEAM READINESS'),
    },
    {
      id: 'signoff-completion-integration',
      text: 'All 3 INTEGRATION items complete',
      outOfScope: rollUp('INTEGRATION'),
    },
    {
      id: 'signoff-completion-security',
      text: 'All 4 SECURITY items complete',
      outOfScope: rollUp('SECURITY'),
    },
    {
      id: 'signoff-completion-performance',
      text: 'All 3 PERFORMANCE items complete',
      outOfScope: rollUp('PERFORMANCE'),
    },
  ]),
  ...section('FINAL SIGN-OFF › Deployment Approval', [
    {
      id: 'signoff-approval-code-review',
      text: 'Code Review: _____________ (Name) Date: _______',
      outOfScope: signOff(),
    },
    { id: 'signoff-approval-qa-lead', text: 'QA Lead: _____________ (Name) Date: _______', outOfScope: signOff() },
    {
      id: 'signoff-approval-devops-lead',
      text: 'DevOps Lead: _____________ (Name) Date: _______',
      outOfScope: signOff(),
    },
    {
      id: 'signoff-approval-product-owner',
      text: 'Product Owner: _____________ (Name) Date: _______',
      outOfScope: signOff(),
    },
  ]),
];
