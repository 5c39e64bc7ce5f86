"""Marshmallow schemas shared by v1 resources."""
from __future__ import annotations

from marshmallow import Schema, fields


class UserSchema(Schema):
    id = fields.Int()
    nickname = fields.Str()
    phone = fields.Str(allow_none=True)
    email = fields.Str(allow_none=True)
    avatar_url = fields.Str(allow_none=True)
    roles = fields.List(fields.Str())


class TokenSchema(Schema):
    token = fields.Str()
    user = fields.Nested(UserSchema)


class ErrorBodySchema(Schema):
    code = fields.Str()
    message = fields.Str()


class ApiErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema)


ErrorSchema = ApiErrorSchema
