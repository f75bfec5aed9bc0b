package voicemail

import "time"

// Call is the voicemail's view of a caller's leg. The call-centre service
// implements it over the switch's application calls as a blocking
// dialogue (as it implements ivr.Call): every method returns when its
// action is over, and an error wrapping ErrHangup once the caller hung up.
type Call interface {
	// Say plays a prompt; with cut a key stops it, and the key waits for
	// the next Collect.
	Say(p Prompt, cut bool) error
	// Collect returns up to max keys, ended early by a key of term (not
	// returned); first is the wait for the first key, inter for each next
	// (0: as first). Nothing in time returns "".
	Collect(max int, term string, first, inter time.Duration) (string, error)
	// Record records the caller into a new WAV file at spec.Path (see
	// recording.Take): after a beep when spec.Beep, until spec.Max, or
	// spec.Silence without speech, or a key of spec.Term. Keys typed
	// before it are forgotten. A hang-up returns what was recorded (the
	// file finished) with ErrHangup.
	Record(spec RecordSpec) (Recorded, error)
	// CallBack ends the dialogue by dialling number for the caller (the
	// call goes on as an ordinary call from them).
	CallBack(number string) error
	// Hangup ends the call.
	Hangup()
}

// Prompt is something said to the caller: one of its fields is set.
type Prompt struct {
	// Name is a system prompt of the catalogue (Prompts lists them).
	Name string
	// File is a recording to play: a message, a greeting.
	File string
	// Number is said as a number ("12": twelve).
	Number string
	// Digits are said one by one (a phone number).
	Digits string
}

// RecordSpec asks for a recording.
type RecordSpec struct {
	Path    string
	Beep    bool
	Max     time.Duration
	Silence time.Duration
	Term    string
}

// Recorded is a finished recording.
type Recorded struct {
	Duration time.Duration
	// Spoken reports whether anything louder than line noise was said.
	Spoken bool
	// Key is the key that ended it, 0 for the maximum length, silence or
	// a hang-up.
	Key byte
}

// The system prompts the dialogues say.
const (
	PromptGreeting        = "vm-greeting"         // the default greeting
	PromptFull            = "vm-full"             // the box is full
	PromptUnavailable     = "vm-unavailable"      // no such box
	PromptSaved           = "vm-saved"            // message saved, goodbye
	PromptBox             = "vm-enter-box"        // your box number and #
	PromptPIN             = "vm-enter-pin"        // your PIN and #
	PromptWrongPIN        = "vm-wrong-pin"        // that box number or PIN is not right
	PromptLocked          = "vm-locked"           // too many wrong PINs: try later
	PromptGoodbye         = "vm-goodbye"          // goodbye
	PromptYouHave         = "vm-you-have"         // you have
	PromptNewMessages     = "vm-new-messages"     // new messages
	PromptSavedMessages   = "vm-saved-messages"   // and ... saved messages
	PromptMainMenu        = "vm-main-menu"        // 1 new, 2 saved, 0 options, * exit
	PromptMessage         = "vm-message"          // message (number follows)
	PromptFrom            = "vm-from"             // from (digits follow)
	PromptMessageMenu     = "vm-message-menu"     // 1 repeat, 2 save, 3 delete, 4 call back, # next, * menu
	PromptMessageSaved    = "vm-message-saved"    // saved
	PromptMessageDeleted  = "vm-message-deleted"  // deleted
	PromptNoMore          = "vm-no-more"          // no more messages
	PromptNoMessages      = "vm-no-messages"      // you have no messages
	PromptNoCallback      = "vm-no-callback"      // no number to call back
	PromptOptions         = "vm-options"          // 1 record greeting, 2 default greeting, 3 change PIN, * back
	PromptRecordGreeting  = "vm-record-greeting"  // record your greeting after the tone, # when done
	PromptGreetingSaved   = "vm-greeting-saved"   // your greeting is saved
	PromptGreetingDefault = "vm-greeting-default" // callers now hear the default greeting
	PromptNewPIN          = "vm-new-pin"          // your new PIN, 4 to 8 digits, and #
	PromptNewPINAgain     = "vm-new-pin-again"    // the new PIN again
	PromptPINChanged      = "vm-pin-changed"      // PIN changed
	PromptPINMismatch     = "vm-pin-mismatch"     // the PINs differ or are not 4 to 8 digits
	PromptNotify          = "vm-notify"           // you have a new message, press 1 to listen
	PromptInvalid         = "vm-invalid"          // that key is not in the menu
	PromptNothingRecorded = "vm-nothing-recorded" // nothing was recorded
)

// Prompts are the texts of the system prompts, for the prompt catalogue
// (spoken by the speech synthesiser at build time): Chinese, then English.
var Prompts = map[string][2]string{
	PromptGreeting:        {"您拨打的用户暂时无法接听，请在提示音后留言，留言完毕请按井号键。", "The person you are calling is not available. Please leave a message after the tone, and press hash when you are done."},
	PromptFull:            {"对不起，该信箱已满，无法留言。", "Sorry, this mailbox is full and cannot take a message."},
	PromptUnavailable:     {"对不起，该信箱不可用。", "Sorry, this mailbox is not available."},
	PromptSaved:           {"您的留言已保存，再见。", "Your message has been saved. Goodbye."},
	PromptBox:             {"请输入信箱号码，以井号键结束。", "Please enter your mailbox number, then press hash."},
	PromptPIN:             {"请输入密码，以井号键结束。", "Please enter your PIN, then press hash."},
	PromptWrongPIN:        {"信箱号码或密码不正确。", "That mailbox number or PIN is not correct."},
	PromptLocked:          {"密码错误次数过多，该信箱暂时锁定，请稍后再试。", "Too many wrong PINs. This mailbox is locked for a while; please try again later."},
	PromptGoodbye:         {"再见。", "Goodbye."},
	PromptYouHave:         {"您有", "You have"},
	PromptNewMessages:     {"条新留言", "new messages"},
	PromptSavedMessages:   {"条已保存的留言", "saved messages"},
	PromptMainMenu:        {"收听新留言请按1，收听已保存的留言请按2，信箱设置请按0，退出请按星号键。", "To hear new messages press 1, saved messages press 2, mailbox options press 0, to leave press star."},
	PromptMessage:         {"第", "Message"},
	PromptFrom:            {"来电号码", "from"},
	PromptMessageMenu:     {"重听请按1，保存请按2，删除请按3，回拨请按4，下一条请按井号键，返回主菜单请按星号键。", "To hear it again press 1, to save it press 2, to delete it press 3, to call back press 4, for the next message press hash, for the main menu press star."},
	PromptMessageSaved:    {"留言已保存。", "Message saved."},
	PromptMessageDeleted:  {"留言已删除。", "Message deleted."},
	PromptNoMore:          {"没有更多留言了。", "There are no more messages."},
	PromptNoMessages:      {"您没有留言。", "You have no messages."},
	PromptNoCallback:      {"没有可回拨的号码。", "There is no number to call back."},
	PromptOptions:         {"录制问候语请按1，恢复默认问候语请按2，修改密码请按3，返回请按星号键。", "To record your greeting press 1, to use the standard greeting press 2, to change your PIN press 3, to go back press star."},
	PromptRecordGreeting:  {"请在提示音后录制问候语，完毕请按井号键。", "Record your greeting after the tone, and press hash when you are done."},
	PromptGreetingSaved:   {"问候语已保存。", "Your greeting has been saved."},
	PromptGreetingDefault: {"已恢复默认问候语。", "Callers will now hear the standard greeting."},
	PromptNewPIN:          {"请输入新密码，四到八位数字，以井号键结束。", "Enter your new PIN of four to eight digits, then press hash."},
	PromptNewPINAgain:     {"请再次输入新密码，以井号键结束。", "Enter the new PIN again, then press hash."},
	PromptPINChanged:      {"密码已修改。", "Your PIN has been changed."},
	PromptPINMismatch:     {"两次输入不一致，或不是四到八位数字，密码未修改。", "The PINs differ or are not four to eight digits; the PIN was not changed."},
	PromptNotify:          {"您有一条新留言，收听请按1。", "You have a new message. To listen, press 1."},
	PromptInvalid:         {"输入有误。", "That key is not in the menu."},
	PromptNothingRecorded: {"没有录到声音。", "Nothing was recorded."},
}
