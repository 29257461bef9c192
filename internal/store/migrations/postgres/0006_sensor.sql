-- Reserved for sensor ingestion (issues 6 and 7): communication edges and sensor batches.
SELECT 1;
