# Writes whatsapp-ferry.txt and "WhatsApp Chat - Rosa Delgado.zip" (deflated), invented people only.
import zipfile
chat = ("[14/03/2024, 09:15:02] Rosa Delgado: \u200eMessages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.\n"
        "[14/03/2024, 09:15:40] Rosa Delgado: Morning! Are we still on for the ferry?\n"
        "[14/03/2024, 09:16:05] Kim Osei: yes, 11:30 at the pier\n"
        "[14/03/2024, 09:16:05] Kim Osei: ok\n"
        "[14/03/2024, 09:16:05] Kim Osei: ok\n"
        "\u200e[14/03/2024, 09:17:11] Rosa Delgado: \u200eimage omitted\n"
        "[14/03/2024, 09:18:30] Rosa Delgado: Bring a jacket,\nit gets windy on deck\n")
with open("whatsapp-ferry.txt", "w", encoding="utf-8") as f:
    f.write(chat)
with zipfile.ZipFile("WhatsApp Chat - Rosa Delgado.zip", "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("_chat.txt", chat)
    z.writestr("00000003-PHOTO-2024-03-14-09-17-11.jpg", b"\xff\xd8\xff\xe0 not really a photo")
