-- Reserved for device-list performance (issue 2): composite indexes, narrower rows.
SELECT 1;
