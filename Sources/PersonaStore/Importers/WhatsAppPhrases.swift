import Foundation

/// The words WhatsApp writes into exports in the phone's language: 12-hour markers, the
/// placeholders of attachments, deleted messages, edits and group notices. One table per
/// kind, each row marked with its language; a phrase missing here imports as ordinary text,
/// so adding a language is adding rows.
///
/// The spellings are those of exports that users of other parsers have posted, for English,
/// German, French, Spanish, Italian, Portuguese (Brazil), Dutch, Finnish, Hungarian, Turkish,
/// Russian, Japanese, Korean and Arabic. WhatsApp has reworded some across versions; the
/// structural rules in `attachment(in:)` do not depend on the language.
enum WhatsAppPhrases {
    struct Marker { let bytes: [UInt8]; let pm: Bool }

    /// 12-hour markers written after the time, longest spelling first. A space stands for an
    /// ordinary, no-break or narrow no-break space.
    static let meridiemsAfterTime: [Marker] = [
        ("a. m.", false), ("p. m.", true),          // es, pt and other Latin-American locales
        ("a.m.", false), ("p.m.", true), ("a.m", false), ("p.m", true),
        ("am", false), ("pm", true),                // en (capitals in the US, lower case in IN/AU)
        ("vorm.", false), ("nachm.", true),         // de (older Android)
        ("π.μ.", false), ("μ.μ.", true),            // el
        ("ص", false), ("م", true),                  // ar
        ("午前", false), ("午後", true),             // ja (iOS puts them after the time in some versions)
        ("오전", false), ("오후", true),             // ko
        ("上午", false), ("下午", true),             // zh
    ].map { Marker(bytes: Array($0.0.utf8), pm: $0.1) }

    /// 12-hour markers written before the time (`午後9:25`, `오후 9:25`).
    static let meridiemsBeforeTime: [Marker] = [
        ("午前", false), ("午後", true), ("오전", false), ("오후", true), ("上午", false), ("下午", true),
    ].map { Marker(bytes: Array($0.0.utf8), pm: $0.1) }

    /// Words between the date and the time, each followed by a space in the export.
    static let wordsBeforeTime: [[UInt8]] = [
        "klo",             // fi: 13.6.2018 klo 21.25
        "kl.",             // da, nb
        "um",              // de: 13.06.18 um 21:25
        "à",               // fr: 13/06/2018 à 21:25
        "às",              // pt
        "a las",           // es
        "alle",            // it
        "om",              // nl
        "в",               // ru
        "saat",            // tr
        "at",              // en (some iOS versions)
    ].map { Array($0.utf8) }

    // MARK: Attachments

    /// The placeholder of an attachment the export left out, or that it names.
    struct Attachment: Equatable {
        /// The attachment's file name, when the export names one.
        var fileName: String?
    }

    /// Android's placeholder for media left out of the export: `<Media omitted>`.
    static let mediaOmitted: Set<String> = [
        "<Media omitted>",                  // en
        "<Medien ausgeschlossen>",          // de
        "<Médias omis>",                    // fr
        "<Multimedia omitido>",             // es
        "<Media omessi>",                   // it
        "<Mídia oculta>", "<Arquivo de mídia oculto>",  // pt-BR
        "<Media weggelaten>",               // nl
        "<Media jätettiin pois>",           // fi
        "<Média elhagyva>",                 // hu
        "<Medya dahil edilmedi>",           // tr
        "<Без медиафайлов>",                // ru
        "<メディアなし>",                     // ja
        "<미디어 파일 생략>",                  // ko
        "<تم استبعاد الوسائط>",              // ar
    ]

    /// iOS's placeholders for media left out: `image omitted`, `video omitted`, …
    static let iOSOmitted: Set<String> = [
        "image omitted", "video omitted", "audio omitted", "sticker omitted", "GIF omitted",
        "document omitted", "Contact card omitted", "voice message omitted",                   // en
        "Bild weggelassen", "Video weggelassen", "Audio weggelassen", "Sticker weggelassen",
        "GIF weggelassen", "Dokument weggelassen",                                             // de
        "image absente", "vidéo absente", "audio omis", "autocollant omis", "GIF retiré",     // fr
        "imagen omitida", "video omitido", "audio omitido", "sticker omitido", "GIF omitido",
        "documento omitido",                                                                   // es
        "immagine omessa", "video omesso", "audio omesso", "sticker omesso", "GIF omessa",    // it
        "imagem ocultada", "vídeo omitido", "áudio ocultado", "figurinha omitida", "mídia oculta",                                                   // pt-BR
        "afbeelding weggelaten", "video weggelaten", "audio weggelaten", "sticker weggelaten", // nl
        "kuva jätetty pois", "video jätetty pois", "ääni jätetty pois",                        // fi
        "kép kihagyva", "videó kihagyva", "hang kihagyva", "matrica kihagyva",                 // hu
        "görüntü dahil edilmedi", "video dahil edilmedi", "ses dahil edilmedi",               // tr
        "изображение отсутствует", "видео отсутствует", "аудио отсутствует",                  // ru
        "画像は含まれていません", "動画は含まれていません", "音声は含まれていません",               // ja
        "사진 생략됨", "동영상 생략됨", "오디오 생략됨",                                           // ko
        "تم استبعاد الصورة", "تم استبعاد الفيديو", "تم استبعاد الصوت",                         // ar
    ]

    /// Android's words after a named attachment: `IMG-20180613-WA0003.jpg (file attached)`.
    static let fileAttached: Set<String> = [
        "file attached",            // en
        "Datei angehängt",          // de
        "fichier joint",            // fr
        "archivo adjunto",          // es
        "file allegato",            // it
        "arquivo anexado",          // pt-BR
        "bestand bijgevoegd",       // nl
        "tiedosto liitetty",        // fi
        "fájl csatolva",            // hu
        "dosya ekli",               // tr
        "файл прикреплен", "файл прикреплён",  // ru
        "ファイル添付",               // ja
        "파일 첨부",                  // ko
        "ملف مرفق",                 // ar
    ]

    /// The attachment a message's first line stands for, or nil when it is text. Reads:
    /// - `<attached: 00000042-PHOTO-2018-06-13-21-25-15.jpg>` (iOS; also `< attached: … >` and
    ///   the translations of "attached"), alone or after a document's description;
    /// - `2015-08-04-PHOTO-00004762.jpg <‎attached>` (older iOS);
    /// - `IMG-20180613-WA0003.jpg (file attached)` and its translations (Android);
    /// - `<Media omitted>` and `image omitted` and their translations.
    static func attachment(in line: String) -> Attachment? {
        let utf8 = line.utf8
        guard let last = utf8.last, utf8.count <= 400 else { return nil }
        switch last {
        case UInt8(ascii: ">"):
            let trimmed = trim(line)
            if mediaOmitted.contains(trimmed) { return Attachment(fileName: nil) }
            guard let open = trimmed.lastIndex(of: "<") else { return nil }
            let inside = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]
            if let colon = inside.firstIndex(of: ":") {
                // `<attached: FILE>`: a short word, a colon, a file name.
                let word = trim(inside[..<colon])
                let file = trim(inside[inside.index(after: colon)...])
                guard !word.isEmpty, word.count <= 24, !word.contains(where: \.isNumber), looksLikeFileName(file) else { return nil }
                return Attachment(fileName: file)
            }
            // `FILE <attached>`: a file name, then one short word in angle brackets.
            let word = trim(inside)
            let file = trim(trimmed[..<open])
            guard !word.isEmpty, word.count <= 24, !word.contains(" "), looksLikeFileName(file) else { return nil }
            return Attachment(fileName: file)
        case UInt8(ascii: ")"):
            let trimmed = trim(line)
            guard let open = trimmed.lastIndex(of: "(") else { return nil }
            let phrase = trim(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            let file = trim(trimmed[..<open])
            guard looksLikeFileName(file) else { return nil }
            // An unknown phrase counts only after a name WhatsApp itself made (`IMG-…-WA0003.jpg`),
            // so that "see notes.txt (later)" stays text.
            guard fileAttached.contains(phrase) || (phrase.count <= 30 && isWhatsAppFileName(file)) else { return nil }
            return Attachment(fileName: file)
        default:
            // Most messages end in none of the placeholders' last bytes: decide those without trimming.
            guard utf8.count <= 80, omittedLastBytes.contains(last) else { return nil }
            let trimmed = trim(line)
            guard iOSOmitted.contains(trimmed) || endsLikeOmitted(trimmed) else { return nil }
            return Attachment(fileName: nil)
        }
    }

    private static let omittedLastBytes = Set(iOSOmitted.compactMap(\.utf8.last) + [UInt8(ascii: "d")])

    /// `photo omitted`, `contact card omitted`: English forms of placeholders not listed.
    private static func endsLikeOmitted(_ text: String) -> Bool {
        text.hasSuffix(" omitted") && text.split(separator: " ").count <= 4
    }

    /// A name with an extension of 1 to 5 letters or digits, on one line.
    static func looksLikeFileName(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 255, !s.contains("\n"), !s.contains("<"), !s.contains(">"),
              let dot = s.lastIndex(of: "."), dot != s.startIndex else { return false }
        let ext = s[s.index(after: dot)...]
        return (1...5).contains(ext.count) && ext.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    /// Names WhatsApp gives attachments: `IMG-20180613-WA0003.jpg`, `PTT-…-WA0001.opus`,
    /// `00000042-PHOTO-2018-06-13-21-25-15.jpg`.
    static func isWhatsAppFileName(_ s: String) -> Bool {
        guard !s.contains(" ") else { return false }
        if s.contains("-WA"), ["IMG-", "VID-", "PTT-", "AUD-", "STK-", "DOC-"].contains(where: s.hasPrefix) { return true }
        return ["-PHOTO-", "-VIDEO-", "-AUDIO-", "-STICKER-", "-GIF-", "-CONTACT-"].contains(where: s.contains)
    }

    /// `s` without spaces and marks at either end. Most texts start and end with neither,
    /// which the first and last bytes show without decoding (this runs on every message).
    static func trim<S: StringProtocol>(_ s: S) -> String {
        let string = String(s)
        let utf8 = string.utf8
        guard let first = utf8.first, let last = utf8.last else { return string }
        let mayStartWithMark = first == 0x20 || first == 0x09 || first == 0xC2 || first == 0xE2 || first == 0xEF
        let mayEndWithMark = last == 0x20 || last == 0x09 || last >= 0x80
        guard mayStartWithMark || mayEndWithMark else { return string }
        let scalars = string.unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end, isSpaceOrMark(scalars[start]) { start = scalars.index(after: start) }
        while end > start, isSpaceOrMark(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        return start == scalars.startIndex && end == scalars.endIndex ? string : String(String.UnicodeScalarView(scalars[start..<end]))
    }

    @inline(__always) static func isSpaceOrMark(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x20, 0x09, 0xA0, 0x202F, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF: return true
        default: return false
        }
    }

    // MARK: Deleted and edited messages

    /// What a deleted message leaves, compared without marks and a final full stop.
    static let deleted: Set<String> = [
        "This message was deleted", "You deleted this message",                           // en
        "Diese Nachricht wurde gelöscht", "Du hast diese Nachricht gelöscht",             // de
        "Ce message a été supprimé", "Vous avez supprimé ce message",                     // fr
        "Se eliminó este mensaje", "Eliminaste este mensaje",                             // es
        "Questo messaggio è stato eliminato", "Hai eliminato questo messaggio",           // it
        "Mensagem apagada", "Esta mensagem foi apagada", "Você apagou esta mensagem",     // pt-BR
        "Dit bericht is verwijderd", "Je hebt dit bericht verwijderd",                    // nl
        "Tämä viesti poistettiin", "Poistit tämän viestin",                               // fi
        "Ez az üzenet törölve lett", "Törölted ezt az üzenetet",                          // hu
        "Bu mesaj silindi", "Bu mesajı sildiniz",                                         // tr
        "Данное сообщение удалено", "Это сообщение удалено", "Вы удалили данное сообщение", // ru
        "このメッセージは削除されました", "メッセージを削除しました",                             // ja
        "삭제된 메시지입니다", "메시지를 삭제했습니다",                                           // ko
        "تم حذف هذه الرسالة", "لقد حذفت هذه الرسالة",                                     // ar
    ]

    /// Which byte lengths a deleted notice can have, indexed by length (a cheap first test).
    private static let deletedLengths: [Bool] = {
        var table = [Bool](repeating: false, count: (deleted.map(\.utf8.count).max() ?? 0) + 4)
        for phrase in deleted { for stop in [0, 1, 3] { table[phrase.utf8.count + stop] = true } }
        return table
    }()

    static func isDeleted(_ text: String) -> Bool {
        guard text.utf8.count < deletedLengths.count + 12 else { return false }
        var t = trim(text)
        // The phrase, or the phrase and a full stop (1 byte, or 3 for `。`).
        guard t.utf8.count < deletedLengths.count, deletedLengths[t.utf8.count] else { return false }
        if t.hasSuffix(".") || t.hasSuffix("。") { t.removeLast() }
        return deleted.contains(t)
    }

    /// The tag an edited message ends with.
    static let editedTags = [
        "<This message was edited>",            // en
        "<Diese Nachricht wurde bearbeitet>",   // de
        "<Ce message a été modifié>",           // fr
        "<Se editó este mensaje.>",             // es
        "<Questo messaggio è stato modificato>", // it
        "<Mensagem editada>",                   // pt-BR
        "<Dit bericht is bewerkt>",             // nl
    ]

    /// The text without its edited tag, or nil when it has none.
    static func withoutEditedTag(_ text: String) -> String? {
        guard text.utf8.last == UInt8(ascii: ">"), let tag = editedTags.first(where: text.hasSuffix) else { return nil }
        var t = String(text.dropLast(tag.count))
        while let last = t.unicodeScalars.last, last == " " || last == "\u{200E}" || last == "\u{00A0}" || last == "\u{202F}" { t.unicodeScalars.removeLast() }
        return t
    }

    // MARK: Notices

    /// Fragments of notices about a group or a chat's security, by language.
    static let notices: [String] = [
        // en
        "created group", "created this group", " added ", " left", " removed ", "changed the subject", "changed this group",
        "changed the group", "joined using this group", "group description", "security code", "end-to-end encrypted",
        "changed their phone number",
        // de
        "hat die Gruppe", "hinzugefügt", "verlassen", "entfernt", "Betreff", "Sicherheitsnummer", "Ende-zu-Ende-verschlüsselt",
        // fr
        "a créé le groupe", "a ajouté", "est parti", "a retiré", "a modifié le sujet", "code de sécurité", "chiffrés de bout en bout",
        // es
        "creó el grupo", "añadió a", "salió del grupo", "eliminó a", "cambió el asunto", "código de seguridad", "cifrados de extremo a extremo",
        // it
        "ha creato il gruppo", "ha aggiunto", "è uscito", "ha rimosso", "ha cambiato l'oggetto", "codice di sicurezza", "crittografia end-to-end",
        // pt-BR
        "criou o grupo", "adicionou", "saiu", "removeu", "mudou o assunto", "código de segurança", "criptografia de ponta a ponta",
        // nl
        "heeft groep", "heeft de groep", "toegevoegd", "is vertrokken", "heeft het onderwerp", "beveiligingscode", "end-to-end versleuteld",
        // fi
        "loi ryhmän", "lisäsi", "poistui", "poisti", "vaihtoi aiheen", "turvakoodi", "päästä päähän salattuja",
        // hu
        "létrehozta a csoportot", "hozzáadta", "kilépett", "eltávolította", "módosította a tárgyat", "biztonsági kód", "végponttól végpontig",
        // tr
        "grubunu oluşturdu", "ekledi", "ayrıldı", "çıkardı", "konusunu değiştirdi", "güvenlik kodu", "uçtan uca şifreli",
        // ru
        "создал(-а) группу", "создал группу", "добавил", "вышел", "удалил(-а)", "изменил(-а) тему", "код безопасности", "сквозным шифрованием",
        // ja
        "グループを作成しました", "を追加しました", "退出しました", "を削除しました", "件名を", "セキュリティコード", "エンドツーエンド暗号化",
        // ko
        "그룹을 만들었습니다", "님을 추가했습니다", "님이 나갔습니다", "님을 내보냈습니다", "그룹 이름을", "보안 코드", "종단간 암호화",
        // ar
        "أنشأ المجموعة", "أضاف", "غادر", "أزال", "غيّر الموضوع", "رمز الأمان", "مشفرة تمامًا",
    ]

    static func isNotice(_ text: String) -> Bool { notices.contains { text.contains($0) } }

    /// The opening of the notice every chat starts with ("Messages and calls are end-to-end
    /// encrypted…"): iOS attributes it to the other person, so it is told by its words.
    static let encryptionNotices: [String] = [
        "Messages and calls are end-to-end encrypted", "Messages to this group are now secured with end-to-end encryption",
        "Messages you send to this chat and calls are now secured with end-to-end encryption",                           // en
        "Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt",                                                     // de
        "Les messages et les appels sont chiffrés de bout en bout",                                                   // fr
        "Los mensajes y las llamadas están cifrados de extremo a extremo",                                            // es
        "I messaggi e le chiamate sono crittografati end-to-end",                                                     // it
        "As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta",                              // pt-BR
        "Berichten en gesprekken worden end-to-end versleuteld",                                                      // nl
        "Viestit ja puhelut ovat päästä päähän salattuja",                                                            // fi
        "Az üzenetek és a hívások végponttól végpontig titkosítottak",                                                // hu
        "Mesajlar ve aramalar uçtan uca şifrelidir",                                                                  // tr
        "Сообщения и звонки защищены сквозным шифрованием",                                                           // ru
        "メッセージと通話はエンドツーエンドで暗号化されています",                                                             // ja
        "메시지와 전화는 종단간 암호화됩니다",                                                                             // ko
        "الرسائل والمكالمات مشفرة تمامًا",                                                                             // ar
    ]

    private static let encryptionFirstBytes = Set(encryptionNotices.compactMap(\.utf8.first))

    static func isEncryptionNotice(_ text: String) -> Bool {
        guard text.utf8.count >= 20 else { return false }
        let t = trim(text)
        guard let first = t.utf8.first, encryptionFirstBytes.contains(first) else { return false }
        return encryptionNotices.contains { t.hasPrefix($0) }
    }
}
