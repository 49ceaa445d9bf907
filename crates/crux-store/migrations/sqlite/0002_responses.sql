-- Responses API objects kept for `previous_response_id` chaining and `GET /v1/responses/{id}` (`store: true`).
-- `input` is the whole conversation the response answered (chained history included), `response` the object
-- answered to the caller; both JSON text.
CREATE TABLE responses (
    id TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL,
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    virtual_key_id TEXT,
    input TEXT NOT NULL,
    response TEXT NOT NULL
);
CREATE INDEX idx_responses_created_at ON responses (created_at);
