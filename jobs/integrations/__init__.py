"""OAuth integrations: tenants' clients and tokens, encrypted at rest (``store``). The refresh jobs are in :mod:`jobs.builtin.oauth`."""
