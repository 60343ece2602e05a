"""Audit and finalization: enumerate one UTC day through a Genesys details job and land what the live path
missed (mode audit) or what changed since (mode finalize). docs/completeness.md tells the whole story.

    plan      the workflow's steps, transitions, waits and retries (data; the stack builds from it)
    model     the execution's input, the state carried between steps, the report's fields
    steps     the steps themselves (one Lambda invocation each in the stack)
    workflow  the same steps run in order in this process (local runner, tests, backfill without AWS)
    store     the results bucket as the audit sees it (ListObjectsV2 ETags, landing, scratch objects)
    bodies    which body a key holds
"""
