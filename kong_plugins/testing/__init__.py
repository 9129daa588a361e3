"""Test and local-run support: the Kong-faithful harness, the dev gateway and the Bedrock emulator.

Nothing here is loaded by Kong; it replaces Kong, AWS and Google where they cannot run.
"""
