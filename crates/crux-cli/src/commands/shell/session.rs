//! The shell's session core: the conversation kept in memory, the current model (resolved by the library `Router`,
//! so aliases, fallback and breakers apply), the request options, and the session's token and cost totals.

use std::collections::BTreeMap;

use crux_llm::{ChatRequest, Message, ModelId, ProviderId, Route, Router, Usage, request_cost};

/// Options applied to every turn.
#[derive(Debug, Clone)]
pub struct Options {
    /// System prompt sent before the conversation.
    pub system: Option<String>,
    /// Print tokens as they arrive.
    pub stream: bool,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Upper bound on generated tokens.
    pub max_tokens: Option<u32>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            system: None,
            stream: true,
            temperature: None,
            max_tokens: None,
        }
    }
}

/// Tokens and cost of the session so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Turns answered.
    pub turns: u32,
    /// Input tokens reported.
    pub prompt: u64,
    /// Output tokens reported.
    pub completion: u64,
    /// Cost in USD of the turns with a known price.
    pub cost_usd: f64,
    /// Turns whose cost is unknown (no price in the registry, or no usage reported).
    pub unpriced: u32,
}

/// One answered turn, as recorded.
#[derive(Debug, Clone)]
pub struct TurnRecord {
    /// Who served it.
    pub target: ModelId,
    /// What the provider reported.
    pub usage: Usage,
    /// Cost in USD, when the price is known.
    pub cost_usd: Option<f64>,
}

/// The state of one shell session.
#[derive(Debug)]
pub struct Session {
    /// The router every turn goes through.
    pub router: Router,
    /// The current model as the user named it (`provider/model` or an alias).
    pub model: String,
    /// Its resolution.
    pub route: Route,
    /// Per-turn options.
    pub options: Options,
    /// The conversation (user and assistant messages; the system prompt is kept in `options`).
    pub messages: Vec<Message>,
    /// Which model served each assistant message (parallel to the assistant messages).
    pub served_by: Vec<ModelId>,
    /// Session totals.
    pub totals: Totals,
    defaults: BTreeMap<ProviderId, String>,
}

impl Session {
    /// A session on `model`; `defaults` is the default model id of each provider (for `/provider`).
    pub fn new(
        router: Router,
        model: &str,
        defaults: BTreeMap<ProviderId, String>,
    ) -> Result<Session, String> {
        let route = router.resolve(model, None).map_err(|e| e.to_string())?;
        Ok(Session {
            router,
            model: route.name.clone(),
            route,
            options: Options::default(),
            messages: Vec::new(),
            served_by: Vec::new(),
            totals: Totals::default(),
            defaults,
        })
    }

    /// The provider of the current model's first target.
    pub fn provider(&self) -> ProviderId {
        self.route
            .targets
            .first()
            .map_or(ProviderId::OpenAi, |t| t.provider)
    }

    /// Switch model: `provider/model`, an alias, or a bare id taken as a model of the current provider.
    pub fn set_model(&mut self, name: &str) -> Result<(), String> {
        let name = name.trim();
        let full = if name.contains('/') || self.router.routes().contains_key(name) {
            name.to_owned()
        } else {
            format!("{}/{name}", self.provider())
        };
        let route = self
            .router
            .resolve(&full, None)
            .map_err(|e| e.to_string())?;
        self.model = route.name.clone();
        self.route = route;
        Ok(())
    }

    /// Switch to `provider`'s default model.
    pub fn set_provider(&mut self, provider: &str) -> Result<(), String> {
        let p: ProviderId = provider.trim().parse().map_err(|e| format!("{e}"))?;
        let model = self
            .defaults
            .get(&p)
            .cloned()
            .unwrap_or_else(|| crux_llm::catalog::default_model(p).to_owned());
        self.set_model(&format!("{p}/{model}"))
    }

    /// The request for the next turn: system prompt, the conversation, then `text`.
    pub fn request(&self, text: &str) -> ChatRequest {
        let mut messages = Vec::with_capacity(self.messages.len() + 2);
        if let Some(system) = &self.options.system {
            messages.push(Message::system(system.clone()));
        }
        messages.extend(self.messages.iter().cloned());
        messages.push(Message::user(text));
        let mut req = ChatRequest::unrouted(messages);
        req.temperature = self.options.temperature;
        req.max_tokens = self.options.max_tokens;
        req
    }

    /// Keep an answered turn and add its tokens and cost to the totals.
    pub fn record(
        &mut self,
        text: &str,
        answer: Message,
        target: ModelId,
        usage: Usage,
    ) -> TurnRecord {
        let cost = self
            .router
            .registry()
            .read()
            .ok()
            .and_then(|r| request_cost(&r, &target, &usage));
        self.messages.push(Message::user(text));
        self.messages.push(answer);
        self.served_by.push(target.clone());
        let t = &mut self.totals;
        t.turns += 1;
        t.prompt += usage.prompt.unwrap_or(0);
        t.completion += usage.completion.unwrap_or(0);
        match cost {
            Some(c) => t.cost_usd += c,
            None => t.unpriced += 1,
        }
        TurnRecord {
            target,
            usage,
            cost_usd: cost,
        }
    }

    /// Forget the conversation (options and totals stay).
    pub fn clear(&mut self) {
        self.messages.clear();
        self.served_by.clear();
    }

    /// Model ids for completion: aliases, every `provider/model` in the registry, and the current provider's bare ids.
    pub fn model_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.router.routes().keys().cloned().collect();
        if let Ok(registry) = self.router.registry().read() {
            for p in ProviderId::all() {
                for e in registry.models(p) {
                    names.push(format!("{p}/{}", e.id));
                    if p == self.provider() {
                        names.push(e.id.clone());
                    }
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        let client = crux_llm::Client::builder().build().unwrap();
        let mut config = crux_llm::RouterConfig::default();
        config
            .routes
            .insert("smart".to_owned(), vec!["openai/gpt-4o".parse().unwrap()]);
        let router = Router::new(client, config);
        Session::new(router, "openai/gpt-4o-mini", BTreeMap::new()).unwrap()
    }

    #[test]
    fn model_switching() {
        let mut s = session();
        s.set_model("gpt-4o").unwrap();
        assert_eq!(s.model, "openai/gpt-4o");
        s.set_model("smart").unwrap();
        assert!(s.route.alias);
        s.set_provider("anthropic").unwrap();
        assert_eq!(s.provider(), ProviderId::Anthropic);
        assert!(s.set_provider("nope").is_err());
        assert!(s.set_model("nope/x").is_err());
        assert!(s.model_names().iter().any(|n| n == "smart"));
    }

    #[test]
    fn request_and_totals() {
        let mut s = session();
        s.options.system = Some("be brief".into());
        s.options.max_tokens = Some(5);
        let usage = Usage {
            prompt: Some(3),
            completion: Some(4),
            ..Usage::default()
        };
        let target: ModelId = "openai/gpt-4o-mini".parse().unwrap();
        let rec = s.record("hi", Message::assistant("hello"), target, usage);
        assert!(rec.cost_usd.is_some());
        let req = s.request("again");
        assert_eq!(req.messages.len(), 4);
        assert_eq!(req.max_tokens, Some(5));
        assert_eq!(
            (s.totals.prompt, s.totals.completion, s.totals.turns),
            (3, 4, 1)
        );
        s.clear();
        assert_eq!(s.request("x").messages.len(), 2);
    }
}
