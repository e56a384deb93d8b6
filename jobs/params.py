"""Checking keyword parameters against a handler's signature before anything is stored.

A scheduled task carries ``params`` that its handler receives as keyword arguments at every run. A
typo (``olderthan``) or a forgotten required parameter would otherwise surface only at run time, as a
``TypeError`` in the execution history hours later. :func:`param_problems` names them when the task is
created or updated, so the API answers 400 at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any


def param_problems(func: Callable[..., Any], params: Mapping[str, Any]) -> list[str]:
    """What is wrong with calling ``func(**params)``: unknown and missing names, one phrase each.

    A handler taking ``**kwargs`` accepts any extra name; positional-only parameters cannot be given
    by keyword and count as missing when they have no default.
    """
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # a builtin without a signature: nothing we can check
        return []
    accepted: set[str] = set()
    required: list[str] = []
    takes_any = False
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            takes_any = True
        elif parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        elif parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            if parameter.default is inspect.Parameter.empty:
                required.append(name)
        else:
            accepted.add(name)
            if parameter.default is inspect.Parameter.empty:
                required.append(name)
    problems = []
    unknown = sorted(set(params) - accepted) if not takes_any else []
    if unknown:
        known = ", ".join(sorted(accepted)) or "none"
        problems.append(f"unknown params {', '.join(unknown)} (the handler takes: {known})")
    missing = [name for name in required if name not in params]
    if missing:
        problems.append(f"missing required params {', '.join(missing)}")
    return problems
