import Configuration
import Synchronization

/// An access reporter that remembers which provider answered each key: its position in the reader's list, which is
/// where `config show` says a setting came from. Secret values are never looked at, only whether a provider had one.
final class AnsweringProviderRecorder: AccessReporter, Sendable {
    private let answers = Mutex<[String: Int]>([:])

    func report(_ event: AccessEvent) {
        // The reader asks providers in order and stops at the first with a value, so it is the first non-nil one.
        let answered = event.providerResults.firstIndex { result in
            if case .success(let lookup) = result.result { return lookup.value != nil }
            return false
        }
        guard let answered else { return }
        answers.withLock { $0[event.metadata.key.description] = answered }
    }

    /// The position of the provider that answered `key`, if one did.
    func answer(for key: String) -> Int? {
        answers.withLock { $0[key] }
    }
}
