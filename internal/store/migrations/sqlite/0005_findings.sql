-- Reserved for the findings store (issues 3 and 4): findings, device risk, remediation workflow, risk snapshots.
SELECT 1;
