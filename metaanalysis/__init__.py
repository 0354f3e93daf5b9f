"""Meta-analysis: record models, loading and validation of the YAML database, the SQL store,
the definition-vs-paper matrix, realism weighting and evidence synthesis, charts and the HTML
atlas. May call ``simulators``; never imported by it."""
