import Foundation
import YongjunCore

/// What the register already holds for a credit code, as an import checks it: its latest application, if any.
package struct FiledApplication: Sendable {
    package let batch: Int64
    package let stage: ReviewStage
    package let id: Int64

    package init(batch: Int64, stage: ReviewStage, id: Int64) {
        self.batch = batch
        self.stage = stage
        self.id = id
    }
}

/// The applications workflow's rules, applied by both stores to the rows they read: only the SQL differs per store.
package enum ApplicationRules {
    package static func notFound(_ id: Int64) -> RegisterError {
        RegisterError("no application \(id); `yongjun applications list --batch N` shows them")
    }

    /// Applications go only into an open batch.
    package static func checkTakesApplications(_ number: Int64, status: Batch.Status) throws {
        guard status == .open else { throw RegisterError("batch \(number) is closed; open a new batch with `yongjun batches open`") }
    }

    package static func importNote(batch number: Int64, count: Int, source: String) -> AuditNote {
        AuditNote(action: "applications.import", subject: "batch \(number)", details: ["file": source, "rows": "\(count)"])
    }

    /// The first history step of an imported application.
    package static func importEventNote(source: String) -> String { "导入：\(source)" }

    /// Rows refused because of what the register holds: the code's latest application still under review in another
    /// batch, or a current partner shop's code. A second application with the same code in this batch is taken and
    /// flagged (`duplicate of #ID`): a stranger may have applied first with a real shop's code, and the bureau decides.
    package static func importProblems(
        _ applications: [ImportedApplication],
        batch number: Int64,
        latest: [String: FiledApplication],
        partners: [String: (id: Int64, name: String)]
    ) -> [ImportProblem] {
        var problems: [ImportProblem] = []
        for imported in applications {
            let code = imported.creditCode.value
            if let existing = latest[code], existing.batch != number, existing.stage.isUnderReview {
                problems.append(
                    ImportProblem(
                        line: imported.line,
                        reason: "credit_code \(code) is still under review in batch \(existing.batch) (application \(existing.id))"
                    )
                )
            }
            if let merchant = partners[code] {
                problems.append(
                    ImportProblem(line: imported.line, reason: "credit_code \(code) is already partner shop \(merchant.id) (\(merchant.name))")
                )
            }
        }
        return problems
    }

    /// An imported row as filed: at materials, stamped `stamp`.
    package static func filed(_ imported: ImportedApplication, id: Int64, batch number: Int64, stamp: String) -> Application {
        Application(
            id: id,
            batchNumber: number,
            shopName: imported.shopName,
            creditCode: imported.creditCode.value,
            industry: imported.industry,
            address: imported.address,
            contact: imported.contact,
            phone: imported.phone,
            benefit: imported.benefit,
            stage: .materials,
            rejectedAtStage: nil,
            rejectReason: nil,
            merchantId: nil,
            createdAt: stamp,
            updatedAt: stamp
        )
    }

    /// The stage `application` advances to: stages cannot be skipped, and approval is the meeting's.
    package static func nextStage(of application: Application) throws -> ReviewStage {
        if let next = application.stage.next { return next }
        let id = application.id ?? 0
        if application.stage == .discussion {
            throw RegisterError(
                "application \(id) is at discussion (讨论方案); it is approved at the meeting: `yongjun batches approve \(application.batchNumber) --meeting-date YYYY-MM-DD`"
            )
        }
        throw RegisterError("application \(id) is \(application.stage.rawValue) (\(application.stage.label)); it is no longer under review")
    }

    package static func advanceNote(_ id: Int64) -> AuditNote { AuditNote(action: "applications.advance", subject: "application \(id)") }

    package static func advanceDetails(from stage: ReviewStage, to next: ReviewStage, note: String?) -> [String: String] {
        ["from": stage.rawValue, "to": next.rawValue, "note": note ?? ""]
    }

    /// Only an application under review can be turned down, and `expected` (a check against typos) must be its stage.
    package static func checkRejectable(_ application: Application, expected: ReviewStage?) throws {
        let id = application.id ?? 0
        let stage = application.stage
        guard stage.isUnderReview else {
            throw RegisterError("application \(id) is \(stage.rawValue) (\(stage.label)); only applications under review can be rejected")
        }
        if let expected, expected != stage {
            throw RegisterError(
                "application \(id) is at \(stage.rawValue) (\(stage.label)), not \(expected.rawValue); check the id or give --stage \(stage.rawValue)"
            )
        }
    }

    package static func rejectNote(_ id: Int64) -> AuditNote { AuditNote(action: "applications.reject", subject: "application \(id)") }

    package static func rejectDetails(at stage: ReviewStage, reason: String) -> [String: String] { ["stage": stage.rawValue, "reason": reason] }

    /// `application` turned down at its stage, with the history step that records it.
    package static func rejected(_ application: Application, reason: String, operatorName: String, now: Date) -> (Application, ApplicationEvent) {
        var application = application
        application.rejectedAtStage = application.stage
        application.rejectReason = reason
        return moved(application, to: .rejected, note: reason, operatorName: operatorName, now: now)
    }

    /// `application` at `stage`, with the history step that records the move.
    package static func moved(
        _ application: Application,
        to stage: ReviewStage,
        note: String?,
        operatorName: String,
        now: Date
    ) -> (Application, ApplicationEvent) {
        var application = application
        let event = ApplicationEvent(
            id: nil,
            applicationId: application.id ?? 0,
            fromStage: application.stage,
            toStage: stage,
            note: note,
            operator: operatorName,
            at: Timestamp.iso(now)
        )
        application.stage = stage
        application.updatedAt = Timestamp.iso(now)
        return (application, event)
    }
}
