/** Named errors with stable codes. A protocol error closes only its own connection or request. */
export class RtsError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class InvalidStateError extends RtsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RTS_ERR_INVALID_STATE', message, options);
  }
}

export class ProtocolError extends RtsError {}

export class AuthError extends RtsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RTS_ERR_AUTH', message, options);
  }
}

export class DomainError extends RtsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RTS_ERR_DOMAIN', message, options);
  }
}

export class UnsupportedCodecError extends RtsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RTS_ERR_UNSUPPORTED_CODEC', message, options);
  }
}

export class TimeoutError extends RtsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RTS_ERR_TIMEOUT', message, options);
  }
}

export class NoRespondersError extends RtsError {
  constructor(subject: string) {
    super('RTS_ERR_NO_RESPONDERS', `no responders for ${subject}`);
  }
}

export class ActorStoppedError extends RtsError {
  constructor(message = 'actor stopped') {
    super('RTS_ERR_ACTOR_STOPPED', message);
  }
}

/** A request refused by a hook or a rule: carries the status a transport should answer with. */
export class RefusedError extends RtsError {
  readonly status: number;
  constructor(code: string, message: string, status = 403) {
    super(code, message);
    this.status = status;
  }
}
