-- reserved for the SBOM findings work of session 3 (issue 8)
SELECT 1;
