-- Reserved for SBOMs (issue 8): documents, versions, attachments, components.
SELECT 1;
