-- reserved for the store/search work of session 3 (issue 2)
SELECT 1;
