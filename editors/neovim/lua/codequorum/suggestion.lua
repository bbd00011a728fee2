-- Inline suggestions drawn as virtual text, for Neovims without vim.lsp.inline_completion.
--
-- The server answers textDocument/inlineCompletion with the best snippet first and ranked
-- alternatives after it. Each item's command is `codequorum.accept` with the suggestion's id
-- as its argument, and its title names the member that proposed it ("codequorum: qwen-small").
-- Every suggestion shown gets one outcome: accepted (that command runs) or dismissed.
local client = require("codequorum.client")

local M = {}

local INLINE = "textDocument/inlineCompletion"
local TRIGGER = { invoked = 1, automatic = 2 }
local namespace = vim.api.nvim_create_namespace("codequorum")
local inline_virtual_text = vim.fn.has("nvim-0.10") == 1

vim.cmd("highlight default link CodequorumSuggestion Comment")
vim.cmd("highlight default link CodequorumMember NonText")

local shown = {} -- bufnr -> the suggestions on screen: { client, items, index, row, col, seen }
local pending = {} -- bufnr -> { client, id } of the request in flight
local timers = {} -- bufnr -> debounce timer

local function suggestion_id(item)
  return item.command and item.command.arguments and item.command.arguments[1]
end

-- The member that proposed an item, from its command's title.
local function member_of(item)
  return item.command and item.command.title:match("^codequorum: (.+)$")
end

local function hint(state)
  local member = member_of(state.items[state.index]) or "codequorum"
  if #state.items == 1 then
    return member
  end
  return ("%s %d/%d"):format(member, state.index, #state.items)
end

local function render(bufnr, state)
  vim.api.nvim_buf_clear_namespace(bufnr, namespace, 0, -1)
  local spaces = (" "):rep(vim.bo[bufnr].tabstop)
  local lines = {}
  for _, line in ipairs(vim.split(state.items[state.index].insertText, "\n", { plain = true })) do
    lines[#lines + 1] = { { line:gsub("\t", spaces), "CodequorumSuggestion" } }
  end
  table.insert(lines[#lines], { "  " .. hint(state), "CodequorumMember" })
  local first = table.remove(lines, 1)
  local line = vim.api.nvim_buf_get_lines(bufnr, state.row, state.row + 1, true)[1]
  local position = inline_virtual_text and "inline" or (state.col == #line and "overlay" or "eol")
  vim.api.nvim_buf_set_extmark(bufnr, namespace, state.row, state.col, {
    virt_text = first,
    virt_text_pos = position,
    virt_lines = #lines > 0 and lines or nil,
    hl_mode = "combine",
  })
end

local function show(bufnr, state, index)
  state.index = index
  render(bufnr, state)
  local id = suggestion_id(state.items[index])
  if id and not state.seen[id] then
    state.seen[id] = true
    client.feedback(state.client, id, "shown")
  end
end

-- Forget the suggestions on screen; every one that was shown and not `accepted` is dismissed.
local function close(bufnr, accepted)
  local state = shown[bufnr]
  if not state then
    return
  end
  shown[bufnr] = nil
  vim.api.nvim_buf_clear_namespace(bufnr, namespace, 0, -1)
  for id in pairs(state.seen) do
    if id ~= accepted then
      client.feedback(state.client, id, "dismissed")
    end
  end
end

local function cancel_pending(bufnr)
  local request = pending[bufnr]
  pending[bufnr] = nil
  if request then
    client.cancel(request.client, request.id)
  end
end

local function cursor()
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  return row - 1, col
end

--- Ask the server for suggestions at the cursor and show the best one.
function M.suggest(bufnr, trigger)
  local lsp_client = client.get()
  if not lsp_client then
    return
  end
  cancel_pending(bufnr)
  close(bufnr)
  local params = vim.lsp.util.make_position_params(0, lsp_client.offset_encoding)
  params.context = { triggerKind = trigger or TRIGGER.invoked }
  local row, col = cursor()
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local request
  local sent, request_id = client.request(lsp_client, INLINE, params, function(err, result)
    if pending[bufnr] ~= request then
      return -- superseded by a newer request
    end
    pending[bufnr] = nil
    if err then
      if params.context.triggerKind == TRIGGER.invoked then
        vim.notify("codequorum: " .. err.message, vim.log.levels.WARN)
      end
      return
    end
    local now_row, now_col = cursor()
    local moved = now_row ~= row or now_col ~= col or vim.api.nvim_buf_get_changedtick(bufnr) ~= tick
    local items = result and (result.items or result) or {}
    if moved or vim.api.nvim_get_current_buf() ~= bufnr or #items == 0 then
      return
    end
    local state = { client = lsp_client, items = items, row = row, col = col, seen = {} }
    shown[bufnr] = state
    show(bufnr, state, 1)
  end, bufnr)
  if sent then
    request = { client = lsp_client, id = request_id }
    pending[bufnr] = request
  end
end

--- Insert the suggestion on screen; false when there is none.
function M.accept(bufnr)
  local state = shown[bufnr]
  if not state then
    return false
  end
  local item = state.items[state.index]
  close(bufnr, suggestion_id(item))
  local lines = vim.split(item.insertText, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, state.row, state.col, state.row, state.col, lines)
  local last_col = (#lines == 1 and state.col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { state.row + #lines, last_col })
  if item.command then
    client.execute(state.client, item.command, bufnr)
  end
  return true
end

local function cycle(bufnr, step)
  local state = shown[bufnr]
  if state then
    show(bufnr, state, (state.index - 1 + step) % #state.items + 1)
  end
end

function M.next(bufnr)
  cycle(bufnr, 1)
end

function M.prev(bufnr)
  cycle(bufnr, -1)
end

function M.dismiss(bufnr)
  cancel_pending(bufnr)
  close(bufnr)
end

function M.visible(bufnr)
  return shown[bufnr] ~= nil
end

local function suggest_later(bufnr, delay_ms)
  local timer = timers[bufnr] or (vim.uv or vim.loop).new_timer()
  timers[bufnr] = timer
  timer:stop()
  timer:start(delay_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_get_current_buf() == bufnr and vim.fn.mode() == "i" then
      M.suggest(bufnr, TRIGGER.automatic)
    end
  end))
end

--- Keep the buffer's suggestions in step with typing; with `auto_trigger`, ask for new ones
--- `debounce_ms` after the user enters insert mode or stops typing.
function M.attach(bufnr, options)
  local group = vim.api.nvim_create_augroup("codequorum_suggestion_" .. bufnr, { clear = true })
  local function on(events, callback)
    vim.api.nvim_create_autocmd(events, { group = group, buffer = bufnr, callback = callback })
  end
  on({ "InsertLeave", "BufLeave" }, function()
    M.dismiss(bufnr)
  end)
  on("CursorMovedI", function()
    local state = shown[bufnr]
    local row, col = cursor()
    if state and (row ~= state.row or col ~= state.col) then
      close(bufnr)
    end
  end)
  on({ "InsertEnter", "TextChangedI" }, function()
    M.dismiss(bufnr)
    if options.auto_trigger then
      suggest_later(bufnr, options.debounce_ms)
    end
  end)
  on("BufWipeout", function()
    M.dismiss(bufnr)
    if timers[bufnr] then
      timers[bufnr]:close()
      timers[bufnr] = nil
    end
    vim.api.nvim_del_augroup_by_id(group)
  end)
end

return M
