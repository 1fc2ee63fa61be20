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

import copy
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import connexion.decorators.parameter as parameter_module
import connexion.security as security_module
from connexion import AsyncApp, utils
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.context import _context, _operation, _receive, _scope
from connexion.decorators import StarletteDecorator
from connexion.decorators.parameter import AsyncParameterDecorator
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.operations import AbstractOperation
from starlette.types import Receive, Scope, Send

from bank.api.validation import PARSED_BODY

_UNBUILT = object()


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the handler's arguments need from the operation, for one request media type."""

    path: dict[str, tuple[str, dict[str, Any]]]  # name -> (argument, definition)
    query: dict[str, dict[str, Any]]  # name -> definition
    query_defaults: dict[str, Any]
    body_argument: str | None  # None: the handler takes no body
    body_nullable: bool
    body_default: Any


class _OnceParameters(AsyncParameterDecorator):  # type: ignore[misc]  # Connexion is untyped
    """Connexion's parameter decorator with the operation's definitions read once (see the
    module docstring). Forms, TRACE and `**kwargs` handlers keep the stock path."""

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        stock = super().__call__(function)
        unwrapped = parameter_module.unwrap_decorators(function)
        arguments, has_kwargs = parameter_module.inspect_function_arguments(unwrapped)
        wanted = frozenset(arguments)
        plans: dict[tuple[Any, str], _Plan | None] = {}

        @functools.wraps(function)
        async def wrapper(request: ConnexionRequest) -> Any:
            operation = _operation.get()
            mimetype = request.mimetype
            found = (operation, mimetype)
            if found not in plans:
                plans[found] = self._plan(operation, mimetype, wanted, has_kwargs)
            plan = plans[found]
            if plan is None:
                return await stock(request)
            kwargs = self._arguments(plan, request, wanted)
            if plan.body_argument is not None:
                kwargs[plan.body_argument] = await self._body(plan, request)
            context = _context.get()
            for key, value in context.items():
                if key in wanted:
                    kwargs[key] = value
            if parameter_module.CONTEXT_NAME in wanted:
                kwargs[parameter_module.CONTEXT_NAME] = context
            return await function(**kwargs)

        return wrapper

    def _plan(
        self, operation: Any, mimetype: str, wanted: frozenset[str], has_kwargs: bool
    ) -> _Plan | None:
        if (
            has_kwargs
            or mimetype in parameter_module.FORM_CONTENT_TYPES
            or operation.method.upper() == "TRACE"
        ):
            return None
        sanitize = self.sanitize_fn
        path = {
            p["name"]: (sanitize(p["name"]), p) for p in operation.parameters if p["in"] == "path"
        }
        query = {p["name"]: p for p in operation.parameters if p["in"] == "query"}
        body_argument = None
        if operation.is_request_body_defined and wanted:
            name = sanitize(operation.body_name(mimetype))
            body_argument = name if name in wanted else None
        schema = operation.body_schema(mimetype) if body_argument is not None else {}
        return _Plan(
            path=path,
            query=query,
            query_defaults=parameter_module._get_query_defaults(query),
            body_argument=body_argument,
            body_nullable=utils.is_nullable(schema),
            body_default=schema.get("default", {}),
        )

    def _arguments(
        self, plan: _Plan, request: ConnexionRequest, wanted: frozenset[str]
    ) -> dict[str, Any]:
        """Path and query arguments, converted as Connexion's `get_arguments` does."""
        sanitize = self.sanitize_fn
        convert = parameter_module._get_val_from_param
        kwargs: dict[str, Any] = {}
        for name, value in request.path_params.items():
            found = plan.path.get(name)
            if found is None:  # a path value the spec does not define: passed as it is
                kwargs[sanitize(name)] = value
            else:
                kwargs[found[0]] = convert(value, found[1])
        if plan.query:
            merged = utils.deep_merge(copy.deepcopy(plan.query_defaults), request.query_params)
            for name, value in merged.items():
                argument = sanitize(name)
                if argument in wanted and name in plan.query:
                    kwargs[argument] = convert(value, plan.query[name])
        return kwargs

    @staticmethod
    async def _body(plan: _Plan, request: ConnexionRequest) -> Any:
        extensions = request.scope.get("extensions") or {}
        body = extensions.get(PARSED_BODY, _UNBUILT)
        if body is _UNBUILT:  # no JSON body validator ran: read it as Connexion does
            body = await request.get_body()
        if plan.body_nullable and utils.is_null(body):
            return None
        if body is None:
            return copy.deepcopy(plan.body_default)
        return body


class _OnceDecorator(StarletteDecorator):  # type: ignore[misc]  # Connexion is untyped
    """StarletteDecorator with the decoration and the URI parser built once per operation."""

    @property
    def _parameter_decorator_cls(self) -> type[AsyncParameterDecorator]:
        return _OnceParameters

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        decorated = self.decorate(function)
        parser: list[Any] = []  # the operation's URI parser, built on the first request

        @functools.wraps(function)
        async def wrapper(*_: Any, **__: Any) -> Any:
            if not parser:
                parser.append(self.uri_parser)
            # The context's own scope and receive, not their proxies: the request reads them
            # many times.
            request = self.framework.get_request(
                uri_parser=parser[0], scope=_scope.get(), receive=_receive.get()
            )
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


class _OnceRequestValidation(RequestValidationOperation):  # type: ignore[misc]  # untyped
    """Connexion's request validation with its per-operation parts built once.

    Per request, the stock `__call__` builds two URI parsers, a parameter validator and a body
    validator and derives the body definition four times, all from the operation alone. The
    validators keep only that configuration (a request's state lives in locals of `validate`
    and `wrap_receive`), so one of each per operation (and per body media type and encoding)
    serves every request. The steps and their order are the stock ones.
    """

    @functools.cached_property
    def _parameter_validator(self) -> Any:
        operation = self._operation
        return self._validator_map["parameter"](
            operation.parameters,
            uri_parser=operation._uri_parser_class(
                operation.parameters, operation.body_definition()
            ),
            strict_validation=self.strict_validation,
            security_query_params=self.security_query_params,
        )

    @functools.cached_property
    def _body_validators(self) -> dict[tuple[str, str], Any]:
        return {}

    def _body_validator(self, mime_type: str, encoding: str) -> Any:
        found = self._body_validators.get((mime_type, encoding), _UNBUILT)
        if found is _UNBUILT:
            found = self._body_validators[(mime_type, encoding)] = self._build_body_validator(
                mime_type, encoding
            )
        return found

    def _build_body_validator(self, mime_type: str, encoding: str) -> Any:
        operation = self._operation
        schema = operation.body_schema(mime_type)
        if not schema:
            return None
        body_validator = self._validator_map["body"].get(mime_type)
        if body_validator is None:  # Connexion skips validation for such a media type
            return None
        return body_validator(
            schema=schema,
            required=operation.request_body.get("required", False),
            nullable=utils.is_nullable(operation.body_definition(mime_type)),
            encoding=encoding,
            strict_validation=self.strict_validation,
            uri_parser=operation.uri_parser_class(
                operation.parameters, operation.body_definition()
            ),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._parameter_validator.validate(scope)
        mime_type, encoding = self.extract_content_type(scope["headers"])
        self.validate_mime_type(mime_type)
        validator = self._body_validator(mime_type, encoding)
        if validator is not None:
            receive, scope = await validator.wrap_receive(receive, scope=scope)
        await self.next_app(scope, receive, send)


class _OnceRequestValidationApi(RequestValidationAPI):  # type: ignore[misc]  # untyped
    def make_operation(self, operation: AbstractOperation) -> RequestValidationOperation:
        return _OnceRequestValidation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class _OnceRequestValidationMiddleware(RequestValidationMiddleware):  # type: ignore[misc]
    api_cls = _OnceRequestValidationApi


STOCK_EXTRACT_CONTENT_TYPE = utils.extract_content_type


def extract_content_type(headers: list[tuple[bytes, bytes]] | dict[str, str]) -> str | None:
    """`connexion.utils.extract_content_type` without the typing expression it builds on every
    call (~1% of a request's Python): the first Content-Type header's value, or None."""
    pairs: Any = headers.items() if isinstance(headers, dict) else headers
    for key, value in pairs:
        name = key.decode("latin-1") if isinstance(key, bytes) else key
        if name.lower() == "content-type":
            return value.decode("latin-1") if isinstance(value, bytes) else value
    return None


def install(app: AsyncApp) -> None:
    """Call before `add_api`: the app's operations are then built by `_OnceApi`, and its
    request validation by `_OnceRequestValidation`."""
    app._middleware_app.api_cls = _OnceApi  # no public hook for the API class
    stack = app.middleware.middlewares  # nor for the validation middleware's
    stack[stack.index(RequestValidationMiddleware)] = _OnceRequestValidationMiddleware
    # Pure functions of a function object / a name, called per request by Connexion.
    if not hasattr(security_module.inspect_function_arguments, "cache_info"):
        security_module.inspect_function_arguments = functools.cache(
            security_module.inspect_function_arguments
        )
    if not hasattr(parameter_module.pythonic, "cache_info"):
        parameter_module.pythonic = functools.cache(parameter_module.pythonic)
    # Called twice per request (request validation, response); Connexion's callers look it up
    # on the module at call time.
    utils.extract_content_type = extract_content_type
