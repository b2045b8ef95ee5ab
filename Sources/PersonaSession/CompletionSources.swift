import Foundation
import PersonaStore

extension Completion {
    /// Sources the session knows itself, consulted beside `providers`: the people of the
    /// workspace's message store. The store is read only when its database already exists,
    /// so pressing Tab never creates a workspace.
    static let builtInSources: [ValueType: (Workbench) -> [String]] = [
        .person: { bench in
            guard FileManager.default.fileExists(atPath: bench.workspacePath + "/persona.db"),
                  let state = try? bench.state(StoreState.self, make: { try StoreState(workspace: try bench.workspace()) }),
                  let people = try? state.store.peopleSummaries(minMessages: 1) else { return [] }
            return people.map(\.name)
        },
    ]
}
