"""Build each operation's Connexion pipeline once instead of on every request.

Connexion 3.3 rebuilds an operation's handler pipeline per request: `AsyncOperation.fn` is a
property that creates a `StarletteDecorator` and decorates the handler again (three wrappers, a
parameter decorator that calls `inspect.signature` on the handler, a response decorator) and
builds a URI parser; the bearer check inspects the token function's signature twice per request,
and every parameter name goes through `inflection` and three regexes. None of it depends on the
request, only on the operation, so here it is built on first use and reused.

Nothing else changes: the same decorators run in the same order with the same arguments. The
integration suite and the fuzzer exercise every operation through this path.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import connexion.decorators.parameter as parameter_module
import connexion.security as security_module
from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.context import receive, scope
from connexion.decorators import StarletteDecorator
from connexion.operations import AbstractOperation


class _OnceDecorator(StarletteDecorator):  # type: ignore[misc]  # Connexion is untyped
    """StarletteDecorator with the decoration and the URI parser built once per operation."""

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        decorated = self.decorate(function)
        parser: list[Any] = []  # the operation's URI parser, built on the first request

        @functools.wraps(function)
        async def wrapper(*_: Any, **__: Any) -> Any:
            if not parser:
                parser.append(self.uri_parser)
            request = self.framework.get_request(uri_parser=parser[0], scope=scope, receive=receive)
            return await decorated(request)

        return wrapper


class _OnceOperation(AsyncOperation):  # type: ignore[misc]  # Connexion is untyped
    @functools.cached_property
    def fn(self) -> Callable[..., Awaitable[Any]]:
        decorator = _OnceDecorator(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)
        return decorator(self._fn)


class _OnceApi(AsyncApi):  # type: ignore[misc]  # Connexion is untyped
    def make_operation(self, operation: AbstractOperation) -> AsyncOperation:
        return _OnceOperation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )


def install(app: AsyncApp) -> None:
    """Call before `add_api`: the app's operations are then built by `_OnceApi`."""
    app._middleware_app.api_cls = _OnceApi  # no public hook for the API class
    # Pure functions of a function object / a name, called per request by Connexion.
    if not hasattr(security_module.inspect_function_arguments, "cache_info"):
        security_module.inspect_function_arguments = functools.cache(
            security_module.inspect_function_arguments
        )
    if not hasattr(parameter_module.pythonic, "cache_info"):
        parameter_module.pythonic = functools.cache(parameter_module.pythonic)
