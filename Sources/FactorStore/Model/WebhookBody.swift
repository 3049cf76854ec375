import Foundation

/// The JSON body of an event, the same for every subscription it goes to: `{"id", "event", "at", "data"}`. The id is
/// the event's, so a receiver that gets it twice (a retry, a redelivery) can drop the repeat.
public enum WebhookBody {
    static func make(_ event: WebhookEvent, payload: String) -> String { make(kind: event.rawValue, payload: payload) }

    static func make(kind: String, payload: String) -> String {
        "{\"id\":\"\(UUID().uuidString.lowercased())\",\"event\":\"\(kind)\",\"at\":\"\(Clock.now())\",\"data\":\(payload)}"
    }

    /// The event id of a stored body (nil for bodies written before events had ids).
    public static func eventId(of body: String) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["id"] as? String
    }
}
