//! Typed mutations: one definition per mutation.
//!
//! A [`Mutation`] is everything about one kind of write: its registry key,
//! the type of its variables and of its result, the call, and the cache
//! effects that follow every settle. It is registered once
//! ([`QueryClient::register_mutation`]); calls name the type
//! ([`QueryClient::mutate`], [`QueryClient::mutate_with`]), so a mutation cannot be called with the
//! wrong variables, and one queued offline and replayed after a reload
//! (when only its key and JSON variables survive) runs through the same
//! definition.

use super::decoded;
use crate::mutation::{
    MutateOptions, MutationConfig, MutationContext, MutationDefaults, MutationRecord,
};
use crate::{QueryClient, QueryError, QueryKey};
use futures::future::LocalBoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// What a mutation's call receives.
pub struct Call<V> {
    /// The variables.
    pub variables: V,
    /// Send as `Idempotency-Key`; the same on every attempt and replay.
    pub idempotency_key: String,
    /// The client, e.g. to read cached data.
    pub client: QueryClient,
}

/// What a mutation's call returns: its answer, later.
pub type MutationFuture<T> = LocalBoxFuture<'static, Result<T, QueryError>>;

/// One kind of write.
///
/// ```
/// use querent::typed::{Call, Mutation, MutationFuture};
/// use querent::QueryClient;
///
/// struct AddTodo;
///
/// impl Mutation for AddTodo {
///     const KEY: &'static str = "add_todo";
///     type Variables = String;
///     type Output = u64;
///
///     fn call(&self, call: Call<String>) -> MutationFuture<u64> {
///         // POST call.variables with `Idempotency-Key: call.idempotency_key`.
///         Box::pin(async move { Ok(call.variables.len() as u64) })
///     }
/// }
///
/// # let (platform, mut runner) = querent::testing::FakePlatform::new();
/// let client = QueryClient::new(platform);
/// client.register_mutation(AddTodo);
/// let id = runner.block_on(client.mutate::<AddTodo>("milk".into()));
/// assert_eq!(id.unwrap(), 4);
/// ```
pub trait Mutation: 'static {
    /// The registry key. Persisted with mutations queued offline, so it
    /// stays the same across versions of the app.
    const KEY: &'static str;
    /// What it is called with.
    type Variables: Serialize + DeserializeOwned + 'static;
    /// What the server answers.
    type Output: Serialize + DeserializeOwned + 'static;

    /// Sends it.
    fn call(&self, call: Call<Self::Variables>) -> MutationFuture<Self::Output>;

    /// Its options (retries after a server error, their delay, network
    /// mode, gc time, meta); unset ones come from
    /// [`QueryClient::set_mutation_defaults`], then TanStack's defaults.
    /// Network failures are always retried once the app is online, and a
    /// `Retry-After` is always honoured.
    fn options(&self) -> MutationConfig {
        MutationConfig::default()
    }

    /// Reconciles the cache with the outcome. Runs after every settle,
    /// also of mutations replayed after a reload (when no call site's
    /// callbacks exist any more), so it must be idempotent.
    fn settled(
        &self,
        client: &QueryClient,
        variables: &Self::Variables,
        outcome: Result<&Self::Output, &QueryError>,
    ) {
        let _ = (client, variables, outcome);
    }
}

type OnMutate<V, C> = Box<dyn FnOnce(&QueryClient, &V) -> C>;
type OnSuccess<M, C> =
    Box<dyn FnOnce(&QueryClient, &<M as Mutation>::Output, &<M as Mutation>::Variables, &C)>;
type OnError<V, C> = Box<dyn FnOnce(&QueryClient, &QueryError, &V, &C)>;
type OnSettled<M, C> = Box<
    dyn FnOnce(
        &QueryClient,
        Result<&<M as Mutation>::Output, &QueryError>,
        &<M as Mutation>::Variables,
        &C,
    ),
>;

/// One call's options: its scope and TanStack's lifecycle callbacks.
/// `on_mutate` runs at once (also offline) and returns the context the
/// others get, typically a [`Snapshot`] to roll back to.
pub struct MutationOptions<M: Mutation, C = ()> {
    /// Serialise with other mutations of this scope.
    pub scope: Option<String>,
    /// The call's idempotency key, when the caller already has one
    /// ([`crate::MutateOptions::idempotency_key`]).
    pub idempotency_key: Option<String>,
    /// The optimistic update; returns the context.
    pub on_mutate: Option<OnMutate<M::Variables, C>>,
    /// After success.
    pub on_success: Option<OnSuccess<M, C>>,
    /// After a final failure (roll back here).
    pub on_error: Option<OnError<M::Variables, C>>,
    /// After either.
    pub on_settled: Option<OnSettled<M, C>>,
}

impl<M: Mutation, C> Default for MutationOptions<M, C> {
    fn default() -> Self {
        Self {
            scope: None,
            idempotency_key: None,
            on_mutate: None,
            on_success: None,
            on_error: None,
            on_settled: None,
        }
    }
}

/// The cached data of some queries as it was, to put back: an optimistic
/// update's rollback context. Holds the cached values themselves (shared,
/// not copied).
#[derive(Default, Clone)]
pub struct Snapshot {
    saved: Vec<(QueryKey, Rc<Value>)>,
}

impl Snapshot {
    /// Puts every saved query's data back (a query that had none is left
    /// as it is now).
    pub fn restore(&self, client: &QueryClient) {
        for (key, data) in &self.saved {
            client.put_query_data(key, Rc::clone(data));
        }
    }
}

impl MutationRecord {
    /// Whether this is a call of `M`.
    pub fn is<M: Mutation>(&self) -> bool {
        self.mutation_key == M::KEY
    }

    /// Its variables, if it is a call of `M`.
    pub fn variables_of<M: Mutation>(&self) -> Option<M::Variables> {
        self.is::<M>()
            .then(|| crate::json::decode(&self.variables).ok())
            .flatten()
    }
}

/// Variables that do not encode, or a stored call's that no longer decode:
/// nothing is sent.
fn invalid(e: serde_json::Error) -> QueryError {
    QueryError::invalid("invalid_variables", e.to_string())
}

impl QueryClient {
    /// Registers `mutation` under its key. Mutations of that key waiting
    /// for it (restored before registration) resume.
    pub fn register_mutation<M: Mutation>(&self, mutation: M) {
        let options = mutation.options();
        let mutation = Rc::new(mutation);
        let call = Rc::clone(&mutation);
        let mutation_fn = Rc::new(move |ctx: MutationContext| {
            let variables = match crate::json::decode::<M::Variables>(&ctx.variables) {
                Ok(v) => v,
                Err(e) => {
                    return Box::pin(futures::future::ready(Err(invalid(e))))
                        as LocalBoxFuture<'_, _>;
                }
            };
            let sent = call.call(Call {
                variables,
                idempotency_key: ctx.idempotency_key,
                client: ctx.client,
            });
            Box::pin(async move {
                let output = sent.await?;
                serde_json::to_value(&output).map_err(|e| QueryError::decode(e.to_string()))
            })
        });
        let on_settled = Rc::new(move |client: &QueryClient, record: &MutationRecord| {
            let Ok(variables) = decoded::<M::Variables>(&record.variables) else {
                return;
            };
            let output = record.data.as_ref().map(decoded::<M::Output>);
            match (output, &record.error) {
                (Some(Ok(data)), _) => mutation.settled(client, &variables, Ok(&data)),
                (_, Some(error)) => mutation.settled(client, &variables, Err(error)),
                (Some(Err(error)), None) => mutation.settled(client, &variables, Err(&error)),
                (None, None) => {}
            }
        });
        self.register_mutation_json(
            M::KEY,
            MutationDefaults {
                options,
                mutation_fn,
                on_settled: Some(on_settled),
            },
        );
    }

    /// Runs `M` with `variables`, in the background (whether or not the
    /// future is awaited): at once when online, otherwise paused until
    /// then (see [`QueryClient::mutate_json`]).
    pub fn mutate<M: Mutation>(
        &self,
        variables: M::Variables,
    ) -> LocalBoxFuture<'static, Result<M::Output, QueryError>> {
        self.mutate_with::<M, ()>(variables, MutationOptions::default())
    }

    /// [`QueryClient::mutate`] with a scope and callbacks: `on_mutate`
    /// runs before this returns, and its context goes to the others.
    pub fn mutate_with<M: Mutation, C: Default + 'static>(
        &self,
        variables: M::Variables,
        options: MutationOptions<M, C>,
    ) -> LocalBoxFuture<'static, Result<M::Output, QueryError>> {
        match json_call(variables, options) {
            Ok((json, options)) => {
                let done = self.mutate_json(M::KEY, json, options);
                Box::pin(async move { decoded(&*done.await?) })
            }
            Err(e) => Box::pin(futures::future::ready(Err(e))),
        }
    }
}

/// A typed call as the JSON layer takes it: the variables encoded, and
/// the callbacks wrapped to decode what they are given and share the
/// context `on_mutate` returns. The per-type part is [`Typed`]'s four
/// methods; the wrapping into the JSON layer's callbacks ([`erased`]) is
/// one copy for every mutation type.
pub(crate) fn json_call<M: Mutation, C: Default + 'static>(
    variables: M::Variables,
    options: MutationOptions<M, C>,
) -> Result<(Value, MutateOptions), QueryError> {
    let json = serde_json::to_value(&variables).map_err(invalid)?;
    let present = [
        options.on_mutate.is_some(),
        options.on_success.is_some(),
        options.on_error.is_some(),
        options.on_settled.is_some(),
    ];
    let typed = Rc::new(Typed::<M, C> {
        variables,
        context: RefCell::default(),
        on_mutate: Cell::new(options.on_mutate),
        on_success: Cell::new(options.on_success),
        on_error: Cell::new(options.on_error),
        on_settled: Cell::new(options.on_settled),
    });
    Ok((
        json,
        erased(typed, present, options.scope, options.idempotency_key),
    ))
}

/// One call's typed callbacks, each run at most once.
trait TypedCallbacks {
    fn on_mutate(&self, client: &QueryClient);
    fn on_success(&self, client: &QueryClient, data: &Value);
    fn on_error(&self, client: &QueryClient, error: &QueryError);
    fn on_settled(&self, client: &QueryClient, result: Result<&Value, &QueryError>);
}

/// A call's variables, the context `on_mutate` returned, and its callbacks.
struct Typed<M: Mutation, C> {
    variables: M::Variables,
    context: RefCell<C>,
    on_mutate: Cell<Option<OnMutate<M::Variables, C>>>,
    on_success: Cell<Option<OnSuccess<M, C>>>,
    on_error: Cell<Option<OnError<M::Variables, C>>>,
    on_settled: Cell<Option<OnSettled<M, C>>>,
}

impl<M: Mutation, C> TypedCallbacks for Typed<M, C> {
    fn on_mutate(&self, client: &QueryClient) {
        if let Some(f) = self.on_mutate.take() {
            *self.context.borrow_mut() = f(client, &self.variables);
        }
    }

    fn on_success(&self, client: &QueryClient, data: &Value) {
        if let Some(f) = self.on_success.take()
            && let Ok(data) = decoded::<M::Output>(data)
        {
            f(client, &data, &self.variables, &self.context.borrow());
        }
    }

    fn on_error(&self, client: &QueryClient, error: &QueryError) {
        if let Some(f) = self.on_error.take() {
            f(client, error, &self.variables, &self.context.borrow());
        }
    }

    fn on_settled(&self, client: &QueryClient, result: Result<&Value, &QueryError>) {
        if let Some(f) = self.on_settled.take() {
            let decoded = result.map_err(Clone::clone).and_then(decoded::<M::Output>);
            f(
                client,
                decoded.as_ref(),
                &self.variables,
                &self.context.borrow(),
            );
        }
    }
}

/// The JSON layer's callbacks for `typed`'s, those `present` (`on_mutate`,
/// `on_success`, `on_error`, `on_settled`) only.
fn erased(
    typed: Rc<dyn TypedCallbacks>,
    present: [bool; 4],
    scope: Option<String>,
    idempotency_key: Option<String>,
) -> MutateOptions {
    let [mutate, success, error, settled] = present;
    let t = Rc::clone(&typed);
    let on_mutate = mutate.then(|| {
        Box::new(move |client: &QueryClient, _: &Value| {
            t.on_mutate(client);
            Value::Null
        }) as Box<dyn FnOnce(&QueryClient, &Value) -> Value>
    });
    let t = Rc::clone(&typed);
    let on_success = success.then(|| {
        Box::new(
            move |client: &QueryClient, data: &Value, _: &Value, _: &Value| {
                t.on_success(client, data);
            },
        ) as Box<dyn FnOnce(&QueryClient, &Value, &Value, &Value)>
    });
    let t = Rc::clone(&typed);
    let on_error = error.then(|| {
        Box::new(
            move |client: &QueryClient, error: &QueryError, _: &Value, _: &Value| {
                t.on_error(client, error);
            },
        ) as Box<dyn FnOnce(&QueryClient, &QueryError, &Value, &Value)>
    });
    let on_settled = settled.then(|| {
        Box::new(
            move |client: &QueryClient,
                  result: Result<&Value, &QueryError>,
                  _: &Value,
                  _: &Value| {
                typed.on_settled(client, result);
            },
        ) as Box<dyn FnOnce(&QueryClient, Result<&Value, &QueryError>, &Value, &Value)>
    });
    MutateOptions {
        scope,
        idempotency_key,
        on_mutate,
        on_success,
        on_error,
        on_settled,
    }
}

impl QueryClient {
    /// The cached data of every query under each of `prefixes`, to put
    /// back with [`Snapshot::restore`].
    pub fn snapshot<K: Serialize>(&self, prefixes: &[K]) -> Snapshot {
        let saved = prefixes
            .iter()
            .flat_map(|prefix| self.matching(&QueryKey::of(prefix)))
            .filter_map(|key| {
                let data = self.get_query_data(&key)?;
                Some((key, data))
            })
            .collect();
        Snapshot { saved }
    }
}
