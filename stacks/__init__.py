"""CDK code of the Genesys Analytics Bridge: one stack composing one construct per capability."""
