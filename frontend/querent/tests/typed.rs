//! Typed keys over the JSON cache: the same query as the untyped key, an
//! edit stored only when it changes something, other data left alone.

use querent::QueryClient;
use querent::typed::Key;
use serde_json::json;

fn client() -> QueryClient {
    let (platform, _runner) = querent::testing::FakePlatform::new();
    QueryClient::new(platform)
}

#[test]
fn a_typed_key_is_the_same_query_as_its_json_array() {
    let client = client();
    let count = Key::<i64>::new(&("count", 1));
    client.set_query_data(count.query_key(), |_| Some(json!(41)));
    assert!(client.update_data(&count, |n| {
        *n += 1;
        true
    }));
    assert_eq!(client.data(&count), Some(42));
    assert_eq!(
        *client
            .get_query_data(&querent::QueryKey::from(vec![json!("count"), json!(1)]))
            .unwrap(),
        json!(42)
    );
}

#[test]
fn an_edit_that_changes_nothing_or_finds_nothing_stores_nothing() {
    let client = client();
    let list = Key::<Vec<String>>::new(&["list"]);
    assert!(!client.update_data(&list, |_| true), "nothing cached");
    assert!(client.data(&list).is_none());
    client.set_data(&list, &vec!["a".to_owned()]);
    let before = client.get_query_data(list.query_key()).unwrap();
    assert!(!client.update_data(&list, |_| false));
    let after = client.get_query_data(list.query_key()).unwrap();
    assert!(std::rc::Rc::ptr_eq(&before, &after), "not stored again");
}

#[test]
fn data_of_another_type_is_left_alone() {
    let client = client();
    let key = Key::<Vec<String>>::new(&["mixed"]);
    client.set_query_data(key.query_key(), |_| Some(json!({"not": "a list"})));
    assert!(client.data(&key).is_none());
    assert!(!client.update_data(&key, |v| {
        v.clear();
        true
    }));
    assert_eq!(
        *client.get_query_data(key.query_key()).unwrap(),
        json!({"not": "a list"})
    );
}
