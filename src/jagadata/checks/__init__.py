"""The UU PDP linter: rules over the manifest -> located findings; text, JSON and SARIF reports.

    from jagadata.checks import run_checks
    findings = run_checks(load_manifest("privacy.yaml"), lang="id")
"""

from jagadata.checks.engine import run_checks
from jagadata.checks.model import RULES, Finding, Rule, Severity

__all__ = ["RULES", "Finding", "Rule", "Severity", "run_checks"]
