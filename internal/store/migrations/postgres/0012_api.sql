-- reserved for the API/audit work of session 3 (issue 9)
SELECT 1;
