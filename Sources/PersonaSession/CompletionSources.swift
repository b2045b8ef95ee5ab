import Foundation
import PersonaData
import PersonaStore

extension Completion {
    /// Sources the session knows itself, consulted beside `providers`: the people of the
    /// workspace's message store, and the datasets stored there. The store is read only when its database already exists,
    /// so pressing Tab never creates a workspace.
    static let builtInSources: [ValueType: (Workbench) -> [String]] = [
        .person: { bench in
            guard FileManager.default.fileExists(atPath: bench.workspacePath + "/persona.db"),
                  let state = try? bench.state(StoreState.self, make: { try StoreState(workspace: try bench.workspace()) }),
                  let people = try? state.store.peopleSummaries(minMessages: 1) else { return [] }
            return people.map(\.name)
        },
        // The datasets stored in the workspace, loaded into the session or not.
        .object(.dataset): { bench in
            guard FileManager.default.fileExists(atPath: bench.workspacePath + "/persona.db"),
                  let state = try? bench.state(StoreState.self, make: { try StoreState(workspace: try bench.workspace()) }),
                  let stored = try? DatasetStore(database: state.store.database).list() else { return [] }
            return stored.map(\.name).filter { bench.object($0) == nil }
        },
    ]
}
