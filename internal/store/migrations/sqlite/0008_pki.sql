-- Reserved for zero trust (issue 9): sensor certificates, enrolment tokens, OIDC identities.
SELECT 1;
